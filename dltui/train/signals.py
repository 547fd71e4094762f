"""SIGINT/SIGTERM handling: the first asks the loop to stop after the current step,
a second SIGINT exits at once.

The handler only sets a flag; the loop reads it between steps (a plain
attribute read, no syscall), then writes the last checkpoint and exits 130.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any


class StopSignal:
    """Install with `install`, read ``requested`` between steps, `restore` when done."""

    def __init__(self) -> None:
        self.requested = False
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def request(self, reason: str) -> None:
        """Ask the loop to stop (signals call this; so does the stop-file check)."""
        if not self.requested:
            self.requested = True
            self.reason = reason

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested and signum == signal.SIGINT:
            # The person pressed Ctrl+C twice: they do not want to wait.
            raise KeyboardInterrupt(f"{name} received twice")
        self.request(f"{name} received")
        print(
            f"\n{name}: stopping after the current step (press Ctrl+C again to exit at once)",
            file=sys.stderr,
            flush=True,
        )

    def install(self) -> None:
        """Handle SIGINT and SIGTERM (only possible from the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
