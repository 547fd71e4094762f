"""Running one trial: an ordinary `dltui run` process, started warm, followed by its files.

Every trial is its own OS process running the trainer's usual code path, so a
trial is exactly what `dltui run` would do and its run directory is like any
other. Starting Python and importing torch costs 2-3 s here, a tenth of a
20-second trial, so trials are forked from a server process that has imported
the trainer once (multiprocessing's ``forkserver``): a trial starts in about
50 ms. Each trial process leaves the sweep's session (``setsid``) and writes its
output to its run's output.log, so a Ctrl-C at the sweep's terminal reaches the
sweep, which then stops its trials through their stop files.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dltui.run_format import META, OUTPUT
from dltui.runs.control import request_stop

_POLL = 0.25
# What every trial would import before its first step, imported once in the fork
# server: torchmetrics takes ~2 s here, and torch's first optimizer imports
# torch._dynamo (1.7 s).
_PRELOAD = [
    "dltui.cli",
    "dltui.train.runner",
    "dltui.train.metrics",
    "dltui.data",
    "torchmetrics",
    "torch._dynamo",
]


def _trial_main(argv: list[str], output: str) -> None:
    """The trial process: leave the sweep's session, log to the run's output, train."""
    os.setsid()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.argv = ["dltui", *argv]
    from dltui.cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class TrialLauncher:
    """Starts trial processes from a fork server that has the trainer imported."""

    def __init__(self, *, warm: bool = True) -> None:
        """``warm``: fork from a server with torch imported (else a plain new process)."""
        context: Any = multiprocessing.get_context("forkserver" if warm else "spawn")
        if warm:
            context.set_forkserver_preload(_PRELOAD)
        self._context = context

    def start(self, argv: list[str], run_dir: Path) -> TrialProcess:
        """Start ``dltui <argv>`` recording into ``run_dir`` (created here for output.log)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        output = run_dir / OUTPUT
        process = self._context.Process(
            target=_trial_main, args=(argv, str(output)), name=f"trial {run_dir.name}"
        )
        process.start()
        return TrialProcess(process, run_dir)


@dataclass
class TrialProcess:
    """A started trial: its process and its run directory."""

    process: Any
    run_dir: Path

    @property
    def exit_code(self) -> int | None:
        """The exit code once it has ended, else None."""
        code: int | None = self.process.exitcode
        return code

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for it to end; True when it has."""
        self.process.join(timeout)
        return self.process.exitcode is not None

    def stop(self, reason: str) -> None:
        """Ask it to stop through its stop file (it ends at its next check, < 1 s)."""
        with contextlib.suppress(OSError):
            request_stop(self.run_dir, reason)

    def kill(self) -> None:
        """End it at once (SIGTERM): the trainer still writes its last checkpoint."""
        if self.process.exitcode is None:
            self.process.terminate()


class RunWatchLike(Protocol):
    """What `follow` needs of a trial: its run folder, and waiting, stopping, ending it."""

    run_dir: Path

    @property
    def exit_code(self) -> int | None: ...

    def wait(self, timeout: float) -> bool: ...

    def stop(self, reason: str) -> None: ...

    def kill(self) -> None: ...


@dataclass
class EpochValues:
    """The objective metric's value at each epoch a run has recorded so far."""

    metric: str
    values: dict[int, float] = field(default_factory=dict)
    _seen: int = 0

    def update(self, events: list[dict[str, Any]]) -> list[tuple[int, float]]:
        """Take the run's epoch events; returns the (epoch, value) pairs that are new."""
        new = []
        for event in events[self._seen :]:
            epoch, value = event.get("epoch"), event.get(self.metric)
            if isinstance(epoch, int) and isinstance(value, int | float):
                if epoch not in self.values:
                    new.append((epoch, float(value)))
                self.values[epoch] = float(value)
        self._seen = len(events)
        return new

    def objective(self, which: str, maximize: bool) -> float | None:
        """The run's ``best`` or ``last`` finite value (None when there is none)."""
        finite = [(e, v) for e, v in sorted(self.values.items()) if math.isfinite(v)]
        if not finite:
            return None
        if which == "last":
            return finite[-1][1]
        return max(v for _, v in finite) if maximize else min(v for _, v in finite)


def follow(
    trial: TrialProcess | RunWatchLike,
    values: EpochValues,
    on_epoch: Callable[[int, float], str | None],
    should_stop: Callable[[], str | None],
) -> tuple[int, str | None]:
    """Follow ``trial`` until it ends. ``on_epoch`` gets each new epoch value as it is
    recorded and ``should_stop`` is asked between polls; either may return a reason to
    stop the trial (a pruning, the sweep stopping), and the trial is then asked to stop.
    Returns the trial's exit code and the reason it was asked to stop (if it was)."""
    from dltui.runs.reader import RunReader

    reader: RunReader | None = None
    reason: str | None = None
    asked_at = 0.0
    while True:
        ended = trial.wait(_POLL)
        if reader is None and (trial.run_dir / META).exists():
            reader = RunReader(trial.run_dir)
        if reader is not None:
            reader.poll()
            for epoch, value in values.update(reader.events_of("epoch")):
                wanted = on_epoch(epoch, value)
                if wanted and reason is None:
                    reason = wanted
        if ended:
            return (trial.exit_code if trial.exit_code is not None else 1), reason
        if reason is None:
            reason = should_stop()
        if reason is not None and not asked_at:
            trial.stop(reason)
            asked_at = time.monotonic()
        if asked_at and time.monotonic() - asked_at > 60:
            trial.kill()  # deaf to its stop file for a minute
