"""What `dltui run` prints: a live bar per epoch on a terminal, plain lines otherwise.

Lines also go to the run's ``output.log`` when stdout is not already that file
(the dashboard redirects the trainer's stdout there itself; a shell does not).
The bar redraws at most ten times a second, so `tick` costs one clock read per
step.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import IO, TextIO


def same_file(stream: IO[str], path: Path) -> bool:
    """Whether ``stream`` writes to the file at ``path`` (same device and inode)."""
    try:
        a = os.fstat(stream.fileno())
        b = os.stat(path)
    except (OSError, ValueError, AttributeError):
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Epoch progress and messages for one run (rank 0 only)."""

    REFRESH = 0.1

    def __init__(
        self,
        *,
        epochs: int,
        quiet: bool = False,
        log_path: Path | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.epochs = epochs
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.log: TextIO | None = None
        if log_path is not None and not same_file(self.stream, log_path):
            self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115  (closed in close())
        self.epoch = 0
        self.steps = 0
        self.started = 0.0
        self.last_draw = 0.0
        self.samples = 0
        self.status = ""
        self.bar_shown = False

    def message(self, text: str) -> None:
        """A line for the person: on stdout (unless quiet) and in output.log."""
        if not self.quiet:
            self._clear_bar()
            print(text, file=self.stream, flush=True)
        if self.log is not None:
            self.log.write(text + "\n")
            self.log.flush()

    def log_only(self, text: str) -> None:
        """A line for output.log alone (stderr already showed it)."""
        if self.log is not None:
            self.log.write(text + "\n")
            self.log.flush()

    def start_epoch(self, epoch: int, steps: int) -> None:
        """A new epoch of ``steps`` steps begins (1-based ``epoch``)."""
        self.epoch, self.steps = epoch, steps
        self.started = self.last_draw = time.perf_counter()
        self.samples = 0

    def set_status(self, text: str) -> None:
        """The metrics shown after the bar (the latest logged loss, say)."""
        self.status = text

    def tick(self, step: int, samples: int) -> None:
        """Step ``step`` (1-based) of the epoch is done, ``samples`` seen so far this epoch."""
        if not self.tty or self.quiet:
            return
        now = time.perf_counter()
        if now - self.last_draw < self.REFRESH and step < self.steps:
            return
        self.last_draw = now
        self.samples = samples
        elapsed = now - self.started
        rate = samples / elapsed if elapsed > 0 else 0.0
        eta = elapsed / step * (self.steps - step) if step else 0.0
        head = f"epoch {self.epoch}/{self.epochs} "
        timing = f"[{_duration(elapsed)}<{_duration(eta)}, {rate:,.0f} samples/s]"
        tail = f" {step}/{self.steps} {timing} {self.status}"
        width = shutil.get_terminal_size((80, 24)).columns
        room = max(10, min(40, width - len(head) - len(tail) - 3))
        filled = int(room * step / max(1, self.steps))
        bar = "█" * filled + "·" * (room - filled)
        line = f"{head}|{bar}|{tail}"[: width - 1]
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.bar_shown = True

    def _clear_bar(self) -> None:
        if self.bar_shown:
            self.stream.write("\r\x1b[K")
            self.bar_shown = False

    def close(self) -> None:
        """Finish the bar and close output.log."""
        if not self.quiet:
            self._clear_bar()
            self.stream.flush()
        if self.log is not None:
            self.log.close()
            self.log = None
