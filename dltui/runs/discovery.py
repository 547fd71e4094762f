"""Finding every run under a runs folder, cheaply enough for hundreds of runs.

Nothing under the folder is silently dropped: a run whose files cannot be read
is listed as ``broken`` with the reason, and what cannot even be entered (a
symbolic link that loops, a folder that cannot be listed) is reported as a
`SkippedRun`. One bad run never stops the others from being listed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltui.bounded import loads_json
from dltui.run_format import (
    BROKEN,
    EVENTS,
    FORMAT_VERSION,
    META,
    OUTPUT,
    STATUS,
    SWEEPS,
    UNKNOWN,
)
from dltui.runs.files import read_json
from dltui.runs.layout import number_or_none
from dltui.runs.status import RunStatus, run_status
from dltui.safe_text import printable

_TAIL_BYTES = 64 * 1024

LAUNCH_GRACE_S = 60.0
"""How long a folder without meta.json counts as a run still being created (a launcher
makes the folder for output.log a moment before the trainer writes meta.json)."""

_MAX_REASON = 300


@dataclass(frozen=True)
class RunInfo:
    """One run, as a run list shows it (read from meta.json, status.json and a log tail).

    ``experiment`` and ``run_id`` are the folder names (``runs/<experiment>/<run_id>``,
    control characters made visible), whatever meta.json says, so a copied run is
    listed under its own name.
    ``state`` includes ``dead`` (see :class:`~dltui.runs.status.RunStatus`) and
    ``broken``: meta.json or status.json cannot be read; ``reason`` then says why
    (printable text naming the file). ``best``/``monitor``/``best_epoch`` come from
    the last ``early_stopping`` event near the end of events.jsonl that no later
    resume superseded; without one, from the ``epoch`` events there: the lowest
    ``val/loss`` (the trainer's choice of best weights), else ``train/loss``.
    """

    experiment: str
    run_id: str
    path: Path
    created: float | None
    state: str
    status: RunStatus
    meta: dict[str, Any] = field(repr=False, default_factory=dict)
    reason: str | None = None
    # What the run has shown so far: None until known (a starting, broken or foreign run).
    device: str | None = None
    best: float | None = None
    monitor: str | None = None
    best_epoch: int | None = None
    epoch: float | None = None
    step: int | None = None
    source: str | None = None
    """The tool that logged it when that is not dltui (``tensorboard``, ``lightning-csv``,
    ``keras-csv``: see `dltui.logs.runs`); None for dltui's own runs."""

    @property
    def alive(self) -> bool:
        """Whether the run's writer is still at work."""
        return self.status.alive

    @property
    def broken(self) -> bool:
        """Whether the run's files could not be read (``reason`` says why)."""
        return self.state == BROKEN


@dataclass(frozen=True)
class SkippedRun:
    """Something under the runs folder that could not be entered, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class RunScan:
    """The result of :func:`scan_runs`: the runs found and what could not be entered."""

    runs: list[RunInfo]
    skipped: list[SkippedRun]


def discover_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run in ``<root>/<experiment>/<run-id>/``, newest first (broken ones included).

    Use :func:`scan_runs` to also learn what could not be entered. A missing
    ``root`` gives an empty list.
    """
    return scan_runs(root).runs


def scan_runs(root: str | os.PathLike[str], now: float | None = None) -> RunScan:
    """Like :func:`discover_runs`, also listing what could not be entered, with a reason.

    Symbolic links are followed (a runs folder may link experiments kept on another
    disk), but a link that loops or points at a folder already listed is skipped.
    """
    now = time.time() if now is None else now
    runs: list[RunInfo] = []
    skipped: list[SkippedRun] = []
    seen: set[tuple[int, int]] = set()
    try:
        top = os.stat(root)
    except OSError:
        return RunScan(runs, skipped)
    seen.add((top.st_dev, top.st_ino))
    for experiment in _folders(Path(root), seen, skipped):
        for folder in _folders(experiment, seen, skipped):
            if folder.name == SWEEPS:
                continue  # the experiment's sweeps (dltui.sweep.records), not a run
            run = _run_of(folder, now)
            if run is not None:
                runs.append(run)
    runs.sort(key=lambda run: (run.created or 0.0, run.run_id), reverse=True)
    return RunScan(runs, skipped)


def _folders(parent: Path, seen: set[tuple[int, int]], skipped: list[SkippedRun]) -> list[Path]:
    """The visible sub-folders of ``parent`` not entered before, sorted.

    What cannot be listed or entered goes to ``skipped`` with the reason.
    """
    try:
        with os.scandir(parent) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        skipped.append(SkippedRun(parent, f"cannot list: {_os_reason(error)}"))
        return []
    folders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden: a removal in progress, editors' and tools' files
        path = Path(entry.path)
        try:
            info = os.stat(entry.path)  # follows links: ELOOP for a link that loops
        except OSError as error:
            if entry.is_symlink():
                skipped.append(SkippedRun(path, f"cannot enter this link: {_os_reason(error)}"))
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue  # a file beside the runs: not a run
        identity = (info.st_dev, info.st_ino)
        if identity in seen:
            skipped.append(SkippedRun(path, "a link to a folder already listed; skipped"))
            continue
        seen.add(identity)
        folders.append(path)
    return folders


def _os_reason(error: OSError) -> str:
    return printable(error.strerror or str(error), keep_newlines=False)


def _run_of(folder: Path, now: float) -> RunInfo | None:
    """The run in ``folder``: read, or broken with a reason; None while it is being created."""
    meta_path = folder / META
    if not os.path.lexists(meta_path):
        if _youngest_change(folder) > now - LAUNCH_GRACE_S:
            return None
        return broken_run_info(
            folder,
            f"no {META}: nothing was recorded in this folder"
            + (f" (its {OUTPUT} may say why)" if os.path.lexists(folder / OUTPUT) else ""),
        )
    try:
        return read_run_info(folder)
    except (OSError, ValueError) as error:
        return broken_run_info(folder, str(error))
    except Exception as error:  # one run's odd file must never hide the others
        return broken_run_info(folder, f"cannot read: {type(error).__name__}: {error}")


def _youngest_change(folder: Path) -> float:
    newest = 0.0
    for path in (folder, folder / OUTPUT):
        with contextlib.suppress(OSError):
            newest = max(newest, os.stat(path).st_mtime)
    return newest


def broken_run_info(run_dir: str | os.PathLike[str], reason: str) -> RunInfo:
    """A :class:`RunInfo` in state ``broken`` for a folder whose files cannot be read."""
    folder = Path(run_dir)
    text = printable(reason, keep_newlines=False)
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 1] + "…"
    try:
        created: float | None = os.stat(folder).st_mtime
    except OSError:
        created = None
    status = RunStatus(
        status=UNKNOWN,
        state=BROKEN,
        reason=text,
        heartbeat=None,
        pid=None,
        host=None,
        step=None,
        epoch=None,
        alive=False,
    )
    return RunInfo(
        experiment=_label(folder.parent.name),
        run_id=_label(folder.name),
        path=folder,
        created=created,
        state=BROKEN,
        reason=text,
        status=status,
    )


def read_run_info(run_dir: str | os.PathLike[str]) -> RunInfo:
    """The :class:`RunInfo` of one run folder.

    Raises ValueError (naming the file) when meta.json or status.json is not a
    valid object (too large and too deeply nested included), OSError when
    meta.json cannot be read. A missing status.json is fine (the run is starting).
    """
    folder = Path(run_dir)
    meta_path = folder / META
    meta = read_json(meta_path)
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a JSON object, got {type(meta).__name__}")
    version = meta.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{meta_path}: 'format' must be an integer, got {_short(version)}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: format {version} is newer than this dltui reads ({FORMAT_VERSION})"
        )
    status_path = folder / STATUS
    status_raw: dict[str, Any] | None = None
    if os.path.lexists(status_path):
        loaded = read_json(status_path)
        if not isinstance(loaded, dict):
            raise ValueError(f"{status_path}: expected a JSON object, got {type(loaded).__name__}")
        status_raw = loaded
    status = run_status(status_raw, meta)
    best = _status_best(status_raw) or _tail_best(folder / EVENTS)
    device = meta.get("device")
    return RunInfo(
        experiment=_label(folder.parent.name),
        run_id=_label(folder.name),
        path=folder,
        created=number_or_none(meta.get("created")),
        state=status.state,
        reason=status.reason,
        device=_field_text(device),
        best=best.value if best is not None else None,
        monitor=_field_text(best.monitor) if best is not None else None,
        best_epoch=best.epoch if best is not None else None,
        epoch=status.epoch,
        step=status.step,
        status=status,
        meta=meta,
    )


def _field_text(value: Any) -> str | None:
    """A short string field of a run file as one line of safe text (None if not a string)."""
    if not isinstance(value, str):
        return None
    return printable(value if len(value) <= 200 else value[:199] + "…", keep_newlines=False)


def _label(name: str) -> str:
    """A folder name as a list shows it: a name is a label, never terminal controls."""
    return printable(name, keep_newlines=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass(frozen=True)
class _Best:
    """A run's best value of one metric (``monitor``), and the epoch it was reached at."""

    monitor: str | None
    value: float | None
    epoch: int | None


_PRIMARY = ("val/loss", "train/loss")
"""What a run without early stopping is best at, in order of preference: the trainer picks
its best weights by the validation loss, and a run without validation has its training
loss."""


def _status_best(status: dict[str, Any] | None) -> _Best | None:
    """status.json's ``best`` (what the trainer says its best so far is), if valid."""
    told = status.get("best") if status is not None else None
    if not isinstance(told, dict):
        return None
    monitor, value, epoch = (
        told.get("monitor"),
        number_or_none(told.get("value")),
        told.get("epoch"),
    )
    if not isinstance(monitor, str) or value is None or value != value:
        return None
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        epoch = None
    return _Best(monitor, value, epoch)


def _tail_best(path: Path) -> _Best | None:
    """From the final 64 KiB of the log, less what a later ``resume`` superseded: the best
    of the last ``early_stopping`` event, else the best (lowest) primary loss of the
    ``epoch`` events there (`_PRIMARY`), for runs without early stopping."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        size = os.lseek(fd, 0, os.SEEK_END)
        start = max(0, size - _TAIL_BYTES)
        tail = os.pread(fd, size - start, start)
    except OSError:
        return None
    finally:
        os.close(fd)
    lines = tail.split(b"\n")
    if start > 0:
        lines = lines[1:]  # cut mid-line
    resumed_from: int | None = None  # the earliest step a later resume continued from
    stopping: dict[str, Any] | None = None
    best: dict[str, tuple[float, int | None]] = {}
    for line in reversed(lines):
        is_resume = b'"resume"' in line
        is_epoch = b'"epoch"' in line and b'"kind":"epoch"' in line.replace(b" ", b"")
        if not is_resume and not is_epoch and b'"early_stopping"' not in line:
            continue
        try:
            event = loads_json(line, source=str(path), max_depth=None)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        step = event.get("step")
        step = step if isinstance(step, int) and not isinstance(step, bool) else None
        kind = event.get("kind")
        if kind == "resume" and step is not None:
            resumed_from = step if resumed_from is None else min(resumed_from, step)
            continue
        if resumed_from is not None and step is not None and step > resumed_from:
            continue  # redone after the resume: superseded
        if kind == "early_stopping":
            stopping = event
            break
        if kind == "epoch":
            epoch = event.get("epoch")
            epoch = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None
            for monitor in _PRIMARY:
                value = number_or_none(event.get(monitor))
                # Ties go to the earlier epoch, as the trainer's best weights do.
                if (
                    value is not None
                    and value == value
                    and (monitor not in best or value <= best[monitor][0])
                ):
                    best[monitor] = (value, epoch)
    if stopping is not None:
        at, named = stopping.get("best_epoch"), stopping.get("monitor")
        return _Best(
            named if isinstance(named, str) else None,
            number_or_none(stopping.get("best")),
            at if isinstance(at, int) and not isinstance(at, bool) else None,
        )
    for monitor in _PRIMARY:
        if monitor in best:
            value, epoch = best[monitor]
            return _Best(monitor, value, epoch)
    return None
