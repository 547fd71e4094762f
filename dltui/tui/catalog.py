"""What the browser lists: experiment files (valid or not) and the runs of each.

Loading happens on a worker thread; the first call imports the schema
(pydantic) and the run reader (numpy), which the app does not pay for at
start-up. Experiment files are re-read only when their modification time or
size changed, and an invalid edit keeps the last good version next to its
problems, so the view can show both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.tui.sweep_catalog import SweepReadings

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.spec import Experiment
    from dltui.tui.sweep_catalog import SweepEntry


@dataclass
class ExperimentEntry:
    """One experiment file and what became of loading it."""

    path: Path
    name: str
    """The experiment's display name (its runs live under ``runs/<name>/``)."""
    experiment: Experiment | None
    """The current file's contents, or None when it is invalid."""
    problems: list[str] = field(default_factory=list)
    """Every problem of the current file (empty when valid)."""
    last_good: Experiment | None = None
    """The last valid version seen, kept while the file is invalid."""
    stamp: tuple[float, int] = (0.0, 0)

    @property
    def valid(self) -> bool:
        """Whether the file as it is now loads."""
        return self.experiment is not None

    @property
    def shown(self) -> Experiment | None:
        """What to show: the current version, else the last good one."""
        return self.experiment or self.last_good


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime, info.st_size)


def load_experiments(
    folder: Path, previous: dict[Path, ExperimentEntry] | None = None
) -> dict[Path, ExperimentEntry]:
    """Every ``*.toml`` in ``folder`` (sorted), reusing ``previous`` entries of unchanged files."""
    from dltui.spec import SpecError, load_experiment

    previous = previous or {}
    entries: dict[Path, ExperimentEntry] = {}
    if not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.toml")):
        stamp = _stamp(path)
        if stamp is None:
            continue
        old = previous.get(path)
        if old is not None and old.stamp == stamp:
            entries[path] = old
            continue
        last_good = old.shown if old is not None else None
        try:
            experiment = load_experiment(path)
        except SpecError as exc:
            name = last_good.display_name if last_good is not None else path.stem
            entries[path] = ExperimentEntry(
                path, name, None, [str(p) for p in exc.problems], last_good, stamp
            )
        else:
            entries[path] = ExperimentEntry(
                path, experiment.display_name, experiment, [], experiment, stamp
            )
    return entries


@dataclass
class Catalog:
    """Experiments and runs, as the browser shows them."""

    experiments: dict[Path, ExperimentEntry]
    runs: list[RunInfo]
    """`dltui.runs.RunInfo` of every run, in discovery order: dltui's own, then those other
    tools logged under the log folders (their ``source`` says which tool)."""
    log_problems: list[str] = field(default_factory=list)
    """What could not be looked at under the log folders (one line each)."""
    sweeps: list[SweepEntry] = field(default_factory=list)
    """Every sweep under the runs folder (its trials are among ``runs``)."""
    readings: SweepReadings = field(default_factory=SweepReadings)
    """The sweeps' studies as last read (the next load re-reads only changed ones)."""
    sweep_problems: list[str] = field(default_factory=list)
    """Sweep folders that could not be read, each naming its file and why."""

    def sweeps_of(self, name: str) -> list[SweepEntry]:
        """The sweeps of the experiment ``name``, the newest first."""
        found = [sweep for sweep in self.sweeps if sweep.experiment == name]
        return sorted(found, key=lambda s: -(s.folder.created or 0))

    def runs_of(self, name: str) -> list[RunInfo]:
        """The runs recorded under the experiment ``name``."""
        return [run for run in self.runs if run.experiment == name]

    def experiment_names(self) -> list[str]:
        """Every experiment name: files first, then names that only have runs."""
        names = [entry.name for entry in self.experiments.values()]
        for run in self.runs:
            if run.experiment not in names:
                names.append(run.experiment)
        return names

    def entry_named(self, name: str) -> ExperimentEntry | None:
        """The experiment file whose display name is ``name``, if any."""
        for entry in self.experiments.values():
            if entry.name == name:
                return entry
        return None


def load_catalog(
    experiments_dir: Path,
    runs_dir: Path,
    previous: Catalog | None = None,
    logdirs: Sequence[Path] = (),
) -> Catalog:
    """Read the experiments folder (changed files only) and discover every run and sweep,
    dltui's under ``runs_dir`` and other tools' under ``logdirs`` (TensorBoard, CSV logs)."""
    from dltui.runs import discover_runs

    experiments = load_experiments(experiments_dir, previous.experiments if previous else None)
    runs = list(discover_runs(runs_dir)) if runs_dir.is_dir() else []
    log_problems: list[str] = []
    if logdirs:
        from dltui.logs.runs import list_log_runs

        logs = list_log_runs(logdirs)
        runs += logs.runs
        log_problems = logs.problems
    readings = previous.readings if previous is not None else SweepReadings()
    sweeps, sweep_problems = readings.load(runs_dir) if runs_dir.is_dir() else ([], [])
    return Catalog(
        experiments,
        runs,
        log_problems=log_problems,
        sweeps=sweeps,
        readings=readings,
        sweep_problems=sweep_problems,
    )
