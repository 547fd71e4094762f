"""What `dltui run` prints: a live bar per epoch on a terminal, plain lines otherwise.

The bar line shows the epoch (its bar, step, time and throughput) and the whole
run (how far it is and the time left), e.g.::

    epoch 3/10 |██████······| 45/100 · run 24% ETA 00:31 · [00:02<00:03, 1,234 samples/s] loss 0.12

The run's ETA divides what is left by the pace of this process so far (in
epochs, so validation and checkpoints count), which makes it an upper bound
when early stopping ends the run sooner. On a narrow terminal the epoch's
timing goes first, then the metrics; the bar is never shorter than 10 cells.

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

_SPARE = 3
"""Columns the bar line leaves free: the last one (a write there may wrap) and two
for the ``^C`` a terminal echoes after it, which would otherwise wrap a lone ``C``."""


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
        self._epoch_base: int | None = None
        """The step of this epoch before its first tick here (>0 after a mid-epoch resume)."""
        self._run_started: float | None = None
        self._run_base: float | None = None
        """Where the run stood, in epochs, when this process began training."""

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
        self._epoch_base = None
        if self._run_started is None:
            self._run_started = self.started

    @property
    def live(self) -> bool:
        """Whether there is a bar to draw (a terminal, not quiet): otherwise `tick` and
        `set_status` show nothing, and the loop need not call them."""
        return self.tty and not self.quiet

    def set_status(self, text: str) -> None:
        """The metrics shown after the bar (the latest logged loss, say)."""
        self.status = text

    def tick(self, step: int, samples: int) -> None:
        """Step ``step`` (1-based) of the epoch is done, ``samples`` seen so far this epoch."""
        if not self.live:
            return
        now = time.perf_counter()
        if self._epoch_base is None:
            self._epoch_base = step - 1
            if self._run_base is None:
                self._run_base = self.epoch - 1 + self._epoch_base / max(1, self.steps)
        if now - self.last_draw < self.REFRESH and step < self.steps:
            return
        self.last_draw = now
        self.samples = samples
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + self.line(step, now, width) + "\x1b[K")
        self.stream.flush()
        self.bar_shown = True

    def line(self, step: int, now: float, width: int) -> str:
        """The bar line after step ``step`` of the epoch at time ``now``, fitted to ``width``."""
        steps = max(1, self.steps)
        elapsed = now - self.started
        done_here = step - (self._epoch_base or 0)
        rate = self.samples / elapsed if elapsed > 0 else 0.0
        eta = elapsed / done_here * (steps - step) if done_here > 0 else 0.0
        head = f"epoch {self.epoch}/{self.epochs} "
        required = f" {step}/{steps} · run {self._run_text(step, now)}"
        optional = [
            f" · [{_duration(elapsed)}<{_duration(eta)}, {rate:,.0f} samples/s]",
            f" {self.status}" if self.status else "",
        ]
        while True:
            rest = len(head) + len(required) + sum(len(p) for p in optional) + 2
            room = width - _SPARE - rest
            if room >= 10 or not any(optional):
                break
            # Too narrow: drop the epoch's timing first, then the metrics.
            optional[optional.index(next(p for p in optional if p))] = ""
        room = max(10, min(40, room))
        filled = int(room * step / steps)
        bar = "█" * filled + "·" * (room - filled)
        return f"{head}|{bar}|{required}{''.join(optional)}"[: max(1, width - _SPARE)]

    def _run_text(self, step: int, now: float) -> str:
        """``24% ETA 01:05``: how far the whole run is, and the time left at this pace."""
        total = max(1, self.epochs)
        done = self.epoch - 1 + step / max(1, self.steps)
        percent = f"{100 * done / total:.0f}%"
        base = self._run_base if self._run_base is not None else done
        started = self._run_started if self._run_started is not None else now
        progressed = done - base
        if progressed <= 0 or now <= started:
            return f"{percent} ETA --:--"
        left = (now - started) / progressed * (total - done)
        return f"{percent} ETA {_duration(left)}"

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
