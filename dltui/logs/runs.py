"""Other tools' runs as run lists show them: `RunInfo` rows, cheaply, and back to a reader.

`list_log_runs` discovers the runs under the log folders and describes each
from file names and modification times only (nothing is parsed: a folder of a
thousand event files lists in milliseconds); the run view reads them in full
through `dltui.logs.reader.LogRunReader`. `log_run_at` says which tool logged a
path, for opening a run named by its path.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dltui.logs.csv_log import looks_like_keras_log
from dltui.logs.discover import LogRun, discover_logs
from dltui.logs.reader import LIVE_WITHIN
from dltui.logs.sources import IDLE, KERAS_CSV, LIGHTNING_CSV, LOGGING, TENSORBOARD
from dltui.logs.tensorboard import is_event_file
from dltui.run_format import EVENTS, META
from dltui.runs.discovery import RunInfo
from dltui.runs.status import RunStatus
from dltui.safe_text import printable

_STAMP = re.compile(r"tfevents\.(\d{9,11})(?:\.|$)")
"""An event file's name holds its creation time: ``events.out.tfevents.<unix s>.<host>...``."""


@dataclass
class LogRuns:
    """The other tools' runs found, as listed rows, and what could not be looked at."""

    runs: list[RunInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _files_of(run: LogRun) -> list[Path]:
    if run.source == TENSORBOARD:
        try:
            with os.scandir(run.path) as listing:
                return sorted(Path(e.path) for e in listing if is_event_file(e.name))
        except OSError:
            return []
    if run.source == LIGHTNING_CSV:
        return [run.path / "metrics.csv"]
    return [run.path]


def _times(run: LogRun, files: list[Path]) -> tuple[float | None, float | None]:
    """(created, last modified) of the run, from names and stat only."""
    modified: float | None = None
    oldest: float | None = None
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        modified = info.st_mtime if modified is None else max(modified, info.st_mtime)
        oldest = info.st_mtime if oldest is None else min(oldest, info.st_mtime)
    created = oldest
    if run.source == TENSORBOARD and files:
        stamp = _STAMP.search(files[0].name)
        if stamp:
            created = float(stamp.group(1))
    return created, modified


def log_run_info(run: LogRun, now: float | None = None) -> RunInfo:
    """The list's row for ``run``: ``logging`` while its files changed in the last minute."""
    now = time.time() if now is None else now
    created, modified = _times(run, _files_of(run))
    state = LOGGING if modified is not None and now - modified <= LIVE_WITHIN else IDLE
    status = RunStatus(state, state, None, modified, None, None, None, None, False)
    return RunInfo(
        experiment=printable(run.experiment, keep_newlines=False),
        run_id=printable(run.run, keep_newlines=False),
        path=run.path,
        created=created,
        state=state,
        reason=None,
        status=status,
        meta={"tool": run.source, "source": str(run.path)},
        source=run.source,
    )


def list_log_runs(folders: Sequence[str | os.PathLike[str]], now: float | None = None) -> LogRuns:
    """Every run other tools logged under ``folders``, each path once (TensorBoard first)."""
    if not folders:
        return LogRuns()
    found = discover_logs(list(folders))
    listed = LogRuns(problems=[printable(p, keep_newlines=False) for p in found.problems])
    seen: set[Path] = set()
    for run in sorted(found.runs, key=lambda r: r.source != TENSORBOARD):
        # A folder that holds event files and a metrics.csv is listed once, as TensorBoard:
        # one row per folder, so that a run's path names one run.
        if run.path in seen:
            continue
        seen.add(run.path)
        listed.runs.append(log_run_info(run, now))
    return listed


def log_run_at(path: str | os.PathLike[str]) -> LogRun | None:
    """Which other tool logged ``path`` (a folder or a Keras CSV file), or None.

    A dltui run folder is None (`dltui.runs.RunReader` reads it); so is a path no
    tool's log is at. The run is named by its folder, under its parent's name.
    """
    where = Path(path)
    parent = where.parent.name or str(where.parent)
    try:
        if where.is_file():
            if looks_like_keras_log(where):
                return LogRun(KERAS_CSV, where, where.parent, parent, where.name)
            return None
        with os.scandir(where) as listing:
            names = {entry.name for entry in listing if entry.is_file()}
    except OSError:
        return None
    if META in names and EVENTS in names:
        return None
    if any(is_event_file(name) for name in names):
        return LogRun(TENSORBOARD, where, where.parent, parent, where.name)
    if "metrics.csv" in names:
        return LogRun(LIGHTNING_CSV, where, where.parent, parent, where.name)
    return None
