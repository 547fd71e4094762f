"""Trials a killed sweep left running: which are stale, and how each is taken over.

A sweep killed outright leaves trials the study still calls running. A worker
that starts on the sweep later adopts those whose worker is gone: a run that
finished meanwhile is scored, a run still training is followed, a stopped or
dead run is resumed from its checkpoint (`dltui run --resume`), and a trial
whose run never began (or ended before its first checkpoint) is failed and its
values queued again. No finished trial is ever run twice.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dltui import run_format as rf
from dltui.sweep.records import STALE_AFTER, worker_states

if TYPE_CHECKING:
    import optuna


class RunWatch:
    """A trial's run that this worker did not start (a trainer left by a killed sweep):
    followed through its files; the same surface as `TrialProcess`."""

    def __init__(self, run_dir: Path) -> None:
        """Watch the run in ``run_dir``."""
        from dltui.runs.reader import RunReader

        self.run_dir = run_dir
        self._reader = RunReader(run_dir)
        self._code: int | None = None

    @property
    def exit_code(self) -> int | None:
        """What the run's final status means as an exit code, once it has one."""
        return self._code

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s; True once the run is no longer alive."""
        time.sleep(timeout)
        self._reader.poll()
        status = self._reader.status
        if status.alive:
            return False
        codes = {rf.FINISHED: rf.EXIT_FINISHED, rf.STOPPED: rf.EXIT_INTERRUPTED}
        self._code = codes.get(status.state, rf.EXIT_FAILED)
        return True

    def stop(self, reason: str) -> None:
        """Ask the run to stop through its stop file."""
        from dltui.runs.control import request_stop

        request_stop(self.run_dir, reason)

    def kill(self) -> None:
        """A run this worker did not start is only ever asked to stop."""


def stale_trials(study: optuna.Study, folder: Path, me: str) -> list[Any]:
    """The trials ``study`` calls running whose worker is gone (``me`` is alive).

    A trial not yet signed by its worker is stale only when it is old: it may
    have been asked a moment ago by a worker about to sign it.
    """
    import optuna

    alive = {f"{w.host}-{w.pid}" for w in worker_states(folder) if w.alive}
    alive.add(me)
    now = datetime.datetime.now()
    stale = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        owner = t.user_attrs.get("worker")
        if owner is None:
            started = t.datetime_start or now
            if (now - started).total_seconds() < STALE_AFTER:
                continue
        elif owner in alive:
            continue
        stale.append(t)
    return stale


@dataclass(frozen=True)
class Takeover:
    """How an adopted trial goes on: follow its run, resume it, or queue its values again."""

    action: Literal["follow", "resume", "requeue"]
    run_dir: Path | None
    why: str
    """What to tell the person (for ``requeue``, why the trial failed)."""


def takeover(frozen: Any) -> Takeover:
    """What becomes of the stale trial ``frozen``, from its run's files."""
    from dltui.runs.reader import RunReader

    run_text = frozen.user_attrs.get("run_dir")
    run_dir = Path(run_text) if isinstance(run_text, str) else None
    if run_dir is None or not (run_dir / rf.META).exists():
        return Takeover("requeue", run_dir, "its sweep stopped before the run began")
    status = RunReader(run_dir).status
    if status.state == rf.FINISHED:
        return Takeover("follow", run_dir, "its run finished while the sweep was away")
    if status.alive:
        return Takeover("follow", run_dir, "following its run, still training")
    if (run_dir / rf.LAST_CHECKPOINT_PATH).exists():
        return Takeover("resume", run_dir, "resuming its run from its checkpoint")
    return Takeover("requeue", run_dir, "its run ended before its first checkpoint")
