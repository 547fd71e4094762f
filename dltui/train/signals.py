"""SIGINT/SIGTERM handling: the first asks the loop to stop after the current step,
a second SIGINT exits at once.

The handler only sets a flag; the loop reads it between steps (a plain
attribute read, no syscall), then writes the last checkpoint and exits 130.

At a terminal, Ctrl+C echoes ``^C`` where the cursor is, so each message the
handler causes starts on a line of its own. The handler writes with ``os.write``
on the descriptor: a Python-level write would fail ("reentrant call") if the
signal arrived while the progress bar was writing to the same stream.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Any, TextIO


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
            # The person pressed Ctrl+C twice: they do not want to wait. What the
            # runner prints next goes below the echoed ^C, not glued to it.
            end_terminal_line()
            raise KeyboardInterrupt(f"{name} received twice")
        self.request(f"{name} received")
        end_terminal_line()
        # Only a second SIGINT exits at once; a SIGTERM's sender has no Ctrl+C to press.
        hint = " (press Ctrl+C again to exit at once)" if signum == signal.SIGINT else ""
        _write(sys.stderr, f"{name}: stopping after the current step{hint}\n")

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


def end_terminal_line() -> None:
    """Move a terminal's cursor to a new line (after an echoed ``^C`` or the bar).

    Written to the first of stdout and stderr that is a terminal (where the
    echo and the progress bar are); nothing when neither is, so logs get no
    blank lines.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream.isatty():
                _write(stream, "\n")
                return
        except (AttributeError, ValueError, OSError):
            continue


def _write(stream: TextIO, text: str) -> None:
    """``text`` straight to ``stream``'s descriptor, or through it when it has none.

    No flush first: flushing is a Python-level write too. The progress output
    flushes after every write, so nothing of it waits in the buffer.
    """
    try:
        fd: int | None = stream.fileno()
    except (AttributeError, ValueError, OSError):
        fd = None
    try:
        if fd is not None:
            os.write(fd, text.encode("utf-8", "replace"))
        else:
            stream.write(text)
            stream.flush()
    except (OSError, ValueError, RuntimeError):
        pass  # a closed or broken stream must not turn a stop request into a crash
