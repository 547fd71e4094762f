"""Finding every run under a runs folder, cheaply enough for hundreds of runs."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltui.runs.layout import EVENTS, FORMAT_VERSION, META, STATUS, number_or_none
from dltui.runs.status import RunStatus, run_status

_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class RunInfo:
    """One run, as a run list shows it (read from meta.json, status.json and a log tail).

    ``state`` includes ``dead`` (see :class:`~dltui.runs.status.RunStatus`).
    ``best``/``monitor``/``best_epoch`` come from the last ``early_stopping``
    event near the end of events.jsonl, when there is one there.
    """

    experiment: str
    run_id: str
    path: Path
    created: float | None
    state: str
    reason: str | None
    device: str | None
    best: float | None
    monitor: str | None
    best_epoch: int | None
    epoch: float | None
    step: int | None
    status: RunStatus
    meta: dict[str, Any] = field(repr=False)

    @property
    def alive(self) -> bool:
        """Whether the run's writer is still at work."""
        return self.status.alive


@dataclass(frozen=True)
class SkippedRun:
    """A folder that looks like a run but could not be read, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class RunScan:
    """The result of :func:`scan_runs`: the runs found and the folders skipped."""

    runs: list[RunInfo]
    skipped: list[SkippedRun]


def discover_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run in ``<root>/<experiment>/<run-id>/``, newest first.

    Broken runs are left out; use :func:`scan_runs` to learn why.
    A missing ``root`` gives an empty list.
    """
    return scan_runs(root).runs


def scan_runs(root: str | os.PathLike[str]) -> RunScan:
    """Like :func:`discover_runs`, also listing the folders skipped with a reason."""
    runs: list[RunInfo] = []
    skipped: list[SkippedRun] = []
    try:
        experiments = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return RunScan(runs, skipped)
    for experiment in experiments:
        if experiment.name.startswith(".") or not experiment.is_dir():
            continue
        try:
            entries = list(os.scandir(experiment.path))
        except OSError as error:
            skipped.append(SkippedRun(Path(experiment.path), f"cannot list: {error}"))
            continue
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            folder = Path(entry.path)
            if not (folder / META).exists():
                continue  # not a run (yet): a launcher may have made it a moment ago
            try:
                runs.append(read_run_info(folder))
            except (OSError, ValueError) as error:
                skipped.append(SkippedRun(folder, str(error)))
    runs.sort(key=lambda run: (run.created or 0.0, run.run_id), reverse=True)
    return RunScan(runs, skipped)


def read_run_info(run_dir: str | os.PathLike[str]) -> RunInfo:
    """The :class:`RunInfo` of one run folder.

    Raises ValueError (naming the file) when meta.json is not a valid format-1
    object, OSError when it cannot be read. A broken status.json only makes the
    state ``unknown`` rather than failing.
    """
    folder = Path(run_dir)
    meta_path = folder / META
    try:
        meta = json.loads(meta_path.read_bytes())
    except ValueError as error:
        raise ValueError(f"{meta_path}: not valid JSON ({error})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a JSON object, got {type(meta).__name__}")
    version = meta.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{meta_path}: 'format' must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: format {version} is newer than this dltui reads ({FORMAT_VERSION})"
        )
    status_raw: dict[str, Any] | None
    try:
        loaded = json.loads((folder / STATUS).read_bytes())
        status_raw = loaded if isinstance(loaded, dict) else {"status": "unknown"}
    except FileNotFoundError:
        status_raw = None
    except (OSError, ValueError):
        status_raw = {"status": "unknown", "reason": f"{folder / STATUS} is not valid JSON"}
    status = run_status(status_raw, meta)
    stopping = _last_early_stopping(folder / EVENTS)
    best_epoch = stopping.get("best_epoch") if stopping else None
    monitor = stopping.get("monitor") if stopping else None
    device = meta.get("device")
    experiment = meta.get("experiment")
    run_id = meta.get("run_id")
    return RunInfo(
        experiment=experiment if isinstance(experiment, str) else folder.parent.name,
        run_id=run_id if isinstance(run_id, str) else folder.name,
        path=folder,
        created=number_or_none(meta.get("created")),
        state=status.state,
        reason=status.reason,
        device=device if isinstance(device, str) else None,
        best=number_or_none(stopping.get("best")) if stopping else None,
        monitor=monitor if isinstance(monitor, str) else None,
        best_epoch=best_epoch if isinstance(best_epoch, int) else None,
        epoch=status.epoch,
        step=status.step,
        status=status,
        meta=meta,
    )


def _last_early_stopping(path: Path) -> dict[str, Any] | None:
    """The last ``early_stopping`` event within the final 64 KiB of the log."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL_BYTES)
            handle.seek(start)
            tail = handle.read(size - start)
    except OSError:
        return None
    lines = tail.split(b"\n")
    if start > 0:
        lines = lines[1:]  # cut mid-line
    for line in reversed(lines):
        if b'"early_stopping"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("kind") == "early_stopping":
            return event
    return None
