"""The sweeps the browser lists: each sweep's folder and the latest reading of its study.

Read on the browser's catalog worker, beside the runs. Finding the sweeps is
cheap (`dltui.sweep.report.find_sweeps`: sweep.json and the workers' files);
reading a study imports Optuna and replays its journal, so a study is read
again only when its journal changed (or, for a database storage, every few
seconds while the sweep is live). No Textual here; nothing heavy at import.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dltui.safe_text import printable

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.sweep.report import SweepFolder, SweepReport

_DATABASE_REREAD_S = 5.0
"""How often a live sweep whose study is in a database is read again."""

DONE_STATES = ("finished", "pruned", "failed")
"""Trial states that count as done against the budget."""


def sweep_label(name: str) -> str:
    """A sweep's name as the dashboard says it, as one line of safe text: ``sweep lr-search``;
    a name that says it is a sweep (``sweep-20261201-…``, the default) stands alone."""
    shown = printable(name, keep_newlines=False)
    return shown if shown.startswith("sweep") else f"sweep {shown}"


@dataclass(frozen=True)
class SweepEntry:
    """One sweep as the browser lists it: where it lives, and what its study said last."""

    folder: SweepFolder
    report: SweepReport | None
    """The study as last read (None when it could not be read yet)."""

    @property
    def key(self) -> str:
        """Its row key in the list."""
        return f"sweep:{self.folder.path}"

    @property
    def experiment(self) -> str:
        """The experiment's name: the folder its runs (and this sweep) live under."""
        return self.folder.experiment

    @property
    def name(self) -> str:
        """The sweep's name (its folder)."""
        return self.folder.name

    @property
    def state(self) -> str:
        """``running`` while a worker is alive, else how the last worker ended."""
        return self.folder.state

    @property
    def alive(self) -> bool:
        """Whether a worker is working on the sweep now."""
        return self.folder.state == "running"

    @property
    def done(self) -> int:
        """Trials that finished, were pruned or failed."""
        if self.report is None:
            return 0
        return sum(1 for t in self.report.trials if t.state in DONE_STATES)

    @property
    def best(self) -> float | None:
        """The best objective so far."""
        best = self.report.best if self.report is not None else None
        return best.value if best is not None else None

    @property
    def metric(self) -> str:
        """The objective's metric (``val/accuracy``)."""
        return str(self.folder.info.get("metric") or "objective")


@dataclass(frozen=True)
class SweepTrial:
    """What a trial's meta.json says of it: its sweep, its number, the values it was given."""

    sweep: str
    number: int
    params: tuple[tuple[str, Any], ...]
    """(field path, sampled value) in the order the trial's meta.json records them."""

    @property
    def title(self) -> str:
        """``trial #3 of sweep lr-search``; ``trial #3 of sweep-20261201-…`` for a name that
        says it is a sweep (as the browser writes a sweep's row)."""
        return f"trial #{self.number} of {sweep_label(self.sweep)}"

    def folder(self, run_dir: Path) -> Path:
        """The sweep's folder, beside the trial's run (``runs/<experiment>/sweeps/<name>``)."""
        from dltui.run_format import SWEEPS

        return Path(run_dir).parent / SWEEPS / self.sweep


def sweep_trial(meta: Any) -> SweepTrial | None:
    """The trial a run's meta.json ``config.sweep`` names (None: the run is no trial)."""
    config = meta.get("config") if isinstance(meta, dict) else None
    sweep: Any = config.get("sweep") if isinstance(config, dict) else None
    if not isinstance(sweep, dict):
        return None
    name, number, params = sweep.get("name"), sweep.get("trial"), sweep.get("params")
    if not isinstance(name, str) or not isinstance(number, int) or isinstance(number, bool):
        return None
    kept = tuple((str(k), v) for k, v in params.items()) if isinstance(params, dict) else ()
    return SweepTrial(name, number, kept)


def trial_of(run: RunInfo) -> tuple[str, int] | None:
    """The sweep name and trial number a run's meta.json config names, if it is a trial."""
    trial = sweep_trial(run.meta)
    return None if trial is None else (trial.sweep, trial.number)


class SweepReadings:
    """The last reading of each sweep's study, re-read only when its records changed."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._read: dict[Path, tuple[object, SweepReport]] = {}

    def load(self, runs_dir: Path) -> tuple[list[SweepEntry], list[str]]:
        """Every sweep under ``runs_dir``, and the sweep folders that could not be read."""
        from dltui.sweep.report import find_sweeps, read_sweep

        folders, problems = find_sweeps(runs_dir)
        entries: list[SweepEntry] = []
        kept: dict[Path, tuple[object, SweepReport]] = {}
        for folder in folders:
            stamp = _stamp(folder)
            old = self._read.get(folder.path)
            if old is not None and old[0] == stamp:
                report = old[1]
            else:
                report = read_sweep(folder, importances=False)
            kept[folder.path] = (stamp, report)
            entries.append(SweepEntry(folder, report))
        self._read = kept
        return entries, problems


def _stamp(folder: SweepFolder) -> object:
    """What changes when the sweep's study may have: its journal's size and time, and
    who works on it (a worker's end); a database's study, every few seconds while live."""
    storage = folder.storage
    workers = tuple((w.pid, w.status, w.alive) for w in folder.workers)
    if storage.startswith("journal:"):
        try:
            info = os.stat(storage[len("journal:") :])
        except OSError:
            return (None, workers)
        return (info.st_mtime_ns, info.st_size, workers)
    live = any(w.alive for w in folder.workers)
    return (int(time.time() // _DATABASE_REREAD_S) if live else None, workers)
