"""A sweep as the dashboard and the shell show it: its trials, the best, and what mattered.

`read_sweep` reads a sweep's folder and its Optuna study (importing Optuna, so
callers run it on a worker) into plain data: one `TrialRow` per trial with its
state, values, objective and run folder, the best trial, and — once enough
trials finished — Optuna's parameter importances. `find_sweeps` lists the sweep
folders under a runs folder without touching Optuna.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltui.sweep.records import (
    JOURNAL,
    SWEEP_FILE,
    SWEEPS,
    WorkerState,
    journal_url,
    read_sweep_file,
    worker_states,
)

MIN_TRIALS_FOR_IMPORTANCE = 4
"""Finished trials needed before parameter importances mean anything."""

STARTING_GRACE_S = 60.0
"""How long a sweep folder without sweep.json counts as a sweep still starting (a
launcher makes the folder for its log a moment before the sweep writes sweep.json)."""


@dataclass(frozen=True)
class SweepFolder:
    """A sweep found under a runs folder (cheap: no Optuna)."""

    experiment: str
    name: str
    path: Path
    info: dict[str, Any]
    workers: list[WorkerState]

    @property
    def state(self) -> str:
        """``running`` while a worker is alive, else the newest worker's final status."""
        if any(w.alive for w in self.workers):
            return "running"
        ended = sorted(self.workers, key=lambda w: w.heartbeat)
        if not ended:
            return "starting"
        last = ended[-1].status
        return "dead" if last == "running" else last

    @property
    def method(self) -> str:
        """The search method (``tpe``, ``grid`` ...), as sweep.json records it."""
        spec = self.info.get("spec")
        method = spec.get("method") if isinstance(spec, dict) else None
        return method if isinstance(method, str) else "?"

    @property
    def budget(self) -> int | None:
        """How many trials the sweep runs (None when only its wall time bounds it): what
        its newest worker was told (``--trials``), else its [sweep] table's."""
        newest = sorted(self.workers, key=lambda w: w.heartbeat)
        if newest and newest[-1].budget is not None:
            return newest[-1].budget
        from dltui.spec.sweep import SweepSpec

        try:
            return SweepSpec.model_validate(self.info.get("spec")).trial_budget
        except ValueError:
            return None

    @property
    def created(self) -> float | None:
        """When the sweep was started (unix seconds)."""
        created = self.info.get("created")
        return float(created) if isinstance(created, int | float) else None

    @property
    def storage(self) -> str:
        """The study's storage URL; the default journal is the one in this folder.

        sweep.json records the journal's path as the sweep was given it (relative to
        where it was started), so the folder's own journal is used wherever it is read.
        """
        url = str(self.info.get("storage") or "")
        if not url or (url.startswith("journal:") and Path(url[len("journal:") :]).name == JOURNAL):
            return journal_url(self.path)
        return url

    def trial_run(self, recorded: str | None) -> Path | None:
        """A trial's run folder: the study records it as the sweep named it, which may be
        relative to where the sweep started; runs live beside the ``sweeps`` folder."""
        if not recorded:
            return None
        return self.path.parent.parent / Path(recorded).name


def find_sweeps(runs_root: str | os.PathLike[str]) -> tuple[list[SweepFolder], list[str]]:
    """Every sweep under ``runs_root/<experiment>/sweeps/``, and folders that could not be read."""
    found: list[SweepFolder] = []
    problems: list[str] = []
    root = Path(runs_root)
    try:
        experiments = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return found, problems
    for experiment in experiments:
        folder = experiment / SWEEPS
        try:
            sweeps = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            continue
        for path in sweeps:
            try:
                info = read_sweep_file(path)
            except ValueError as error:
                if not _starting(path):
                    problems.append(str(error))
                continue
            found.append(SweepFolder(experiment.name, path.name, path, info, worker_states(path)))
    return found, problems


def open_sweep_folder(path: str | os.PathLike[str]) -> SweepFolder:
    """The sweep in ``path`` (``runs/<experiment>/sweeps/<name>``) as it is now.

    Raises ValueError, naming the file, when its sweep.json cannot be read.
    """
    folder = Path(path)
    info = read_sweep_file(folder)
    return SweepFolder(folder.parent.parent.name, folder.name, folder, info, worker_states(folder))


def _starting(path: Path) -> bool:
    """A folder without sweep.json whose sweep was launched moments ago."""
    if (path / SWEEP_FILE).exists():
        return False
    try:
        return time.time() - path.stat().st_mtime < STARTING_GRACE_S
    except OSError:
        return False


@dataclass(frozen=True)
class TrialRow:
    """One trial: Optuna's record of it, and its run."""

    number: int
    state: str
    """``running``, ``finished``, ``pruned``, ``failed``, ``waiting``, or ``stopped``: the
    study says running but no worker is at work (it continues when the sweep resumes)."""
    params: dict[str, Any]
    value: float | None
    intermediate: dict[int, float]
    """The objective at each reported epoch."""
    run_dir: Path | None
    reason: str | None
    started: float | None
    duration: float | None

    @property
    def best_epoch(self) -> int | None:
        """The epoch of the value the trial is scored by (its best or last), if reported."""
        value = self.value
        if value is None or not self.intermediate:
            return None
        return min(self.intermediate, key=lambda e: (abs(self.intermediate[e] - value), e))


@dataclass
class SweepReport:
    """Everything the sweep view shows."""

    folder: SweepFolder
    metric: str
    maximize: bool
    params: list[str]
    trials: list[TrialRow] = field(default_factory=list)
    importances: dict[str, float] | None = None
    problem: str | None = None

    @property
    def best(self) -> TrialRow | None:
        """The finished trial with the best objective."""
        scored = [
            (t.value, t) for t in self.trials if t.state == "finished" and t.value is not None
        ]
        if not scored:
            return None
        sign = 1.0 if self.maximize else -1.0
        return max(scored, key=lambda pair: sign * pair[0])[1]

    def best_so_far(self) -> list[tuple[int, float]]:
        """(trial number, best objective up to it) for each finished trial, in order."""
        out: list[tuple[int, float]] = []
        best: float | None = None
        for trial in sorted(self.trials, key=lambda t: t.number):
            if trial.state != "finished" or trial.value is None:
                continue
            if best is None or (trial.value > best if self.maximize else trial.value < best):
                best = trial.value
            out.append((trial.number, best))
        return out

    def counts(self) -> dict[str, int]:
        """How many trials are in each state."""
        out: dict[str, int] = {}
        for trial in self.trials:
            out[trial.state] = out.get(trial.state, 0) + 1
        return out


_STATES = {
    "COMPLETE": "finished",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}


def read_sweep(folder: SweepFolder, *, importances: bool = True) -> SweepReport:
    """The sweep's trials from its study, and with ``importances`` Optuna's ranking of its
    parameters (Optuna is imported here: call it on a worker)."""
    report, study = load_sweep(folder)
    if importances and study is not None:
        report.importances = importances_of(report, study)
    return report


def load_sweep(folder: SweepFolder) -> tuple[SweepReport, Any]:
    """The sweep's trials, and its Optuna study (None when it cannot be opened: the
    report's ``problem`` says why) for `importances_of` without reading it again."""
    info = folder.info
    spec = info.get("spec") if isinstance(info.get("spec"), dict) else {}
    params = list(spec.get("params", {})) if isinstance(spec, dict) else []
    report = SweepReport(
        folder=folder,
        metric=str(info.get("metric") or "objective"),
        maximize=bool(info.get("maximize")),
        params=params,
    )
    try:
        import optuna

        from dltui.sweep.engine import open_storage

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(study_name=folder.name, storage=open_storage(folder.storage))
    except Exception as error:  # a study that cannot be opened is shown, not fatal
        report.problem = f"{folder.path}: cannot read its study ({type(error).__name__}: {error})"
        return report, None
    # A stopped or killed sweep leaves its running trials RUNNING in the study (a resumed
    # sweep takes them up again): with nobody at work they are stopped, not running.
    idle = folder.state not in ("running", "starting")
    for frozen in study.get_trials(deepcopy=False):
        state = _STATES.get(frozen.state.name, frozen.state.name.lower())
        if idle and state == "running":
            state = "stopped"
        start = frozen.datetime_start.timestamp() if frozen.datetime_start else None
        end = frozen.datetime_complete.timestamp() if frozen.datetime_complete else None
        run = frozen.user_attrs.get("run_dir")
        value = frozen.value if frozen.state.name == "COMPLETE" else None
        report.trials.append(
            TrialRow(
                number=frozen.number,
                state=state,
                params=dict(frozen.params),
                value=value if value is None or math.isfinite(value) else None,
                intermediate={int(k): float(v) for k, v in frozen.intermediate_values.items()},
                run_dir=folder.trial_run(run if isinstance(run, str) else None),
                reason=frozen.user_attrs.get("reason"),
                started=start,
                duration=(end - start) if start is not None and end is not None else None,
            )
        )
    return report, study


def importances_of(report: SweepReport, study: Any) -> dict[str, float] | None:
    """Optuna's importance of each varied parameter, once enough trials have finished
    (None before, or when Optuna cannot rank them)."""
    import optuna

    finished = sum(1 for t in report.trials if t.state == "finished")
    if finished < MIN_TRIALS_FOR_IMPORTANCE or len(report.params) < 2:
        return None
    try:
        found = optuna.importance.get_param_importances(study)
    except Exception:  # too few distinct values, a single parameter, ...
        return None
    return {name: float(v) for name, v in found.items()}
