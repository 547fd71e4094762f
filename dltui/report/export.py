"""`dltui export`: every scalar of some runs as one tidy table, in CSV or JSON.

One row per recorded point: ``run, tag, step, epoch, time, value`` (``run`` is
``experiment/run-id``; ``time`` unix seconds; ``epoch`` empty/null where none was
recorded). Values are written with as many digits as they need to read back to
the very same float: a CSV or JSON read back equals what `RunReader` gives.
JSON is strict (no ``NaN`` token, which most JSON readers refuse): NaN becomes
``null`` and ±infinity the strings ``"Infinity"``/``"-Infinity"``. JSON also
carries, per run, its config, frozen experiment, final status, early-stopping
outcome, final test results and confusion matrix.

Rows are written in chunks straight from the reader's arrays, so a run of a
million points is exported without a million Python objects alive at once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from dltui.bounded import loads_toml, read_text_limited
from dltui.report.select import LoadedRun, full_name
from dltui.run_format import EXPERIMENT
from dltui.runs.series import Series

COLUMNS = ("run", "tag", "step", "epoch", "time", "value")
FORMATS = ("csv", "json")
EXPORT_FORMAT = "dltui-export/1"
"""The ``format`` field of a JSON export: its layout's name and version."""

_CHUNK = 1 << 15
_MAX_DEPTH = 64
_OUTCOME_KEYS = (
    "monitor",
    "mode",
    "best",
    "best_epoch",
    "epoch",
    "value",
    "wait",
    "patience",
    "stopped",
    "reason",
)


def export_runs(
    runs: Sequence[LoadedRun], tags: Sequence[str] | None, fmt: str, out: TextIO
) -> int:
    """Write the runs' points of ``tags`` (all when None) to ``out``; returns the rows written."""
    if fmt == "csv":
        return _write_csv(runs, tags, out)
    if fmt == "json":
        return _write_json(runs, tags, out)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def tags_of(run: LoadedRun, tags: Sequence[str] | None) -> list[str]:
    """The run's tags to export, in the order given (or the run's own order)."""
    present = run.reader.tags()
    return present if tags is None else [tag for tag in tags if tag in present]


def _write_csv(runs: Sequence[LoadedRun], tags: Sequence[str] | None, out: TextIO) -> int:
    out.write(",".join(COLUMNS) + "\n")
    count = 0
    for run in runs:
        name = full_name(run.info)
        for tag in tags_of(run, tags):
            prefix = _csv_cells(name, tag)
            series = run.reader.series(tag)
            for steps, epochs, times, values in _chunks(series):
                out.write(
                    "".join(
                        f"{prefix},{s},{'' if e == 'nan' else e},{t!r},{v!r}\n"
                        for s, e, t, v in zip(steps, epochs, times, values, strict=True)
                    )
                )
            count += len(series)
    return count


def _csv_cells(*cells: str) -> str:
    """``cells`` as CSV fields (quoted when they hold commas, quotes or newlines)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def _chunks(series: Series) -> Iterator[tuple[list[int], list[str], list[float], list[float]]]:
    """The series' columns as Python lists, a chunk at a time; epochs as shortest text."""
    n = len(series)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(n, start + _CHUNK))
        # numpy writes a float32 in the fewest digits that read back to it ("0.1",
        # where Python's repr of the same value as a double gives 0.10000000149011612).
        epochs = np.asarray(series.epoch[part]).astype(str).tolist()
        yield (
            series.step[part].tolist(),
            epochs,
            series.time[part].tolist(),
            series.value[part].tolist(),
        )


def _write_json(runs: Sequence[LoadedRun], tags: Sequence[str] | None, out: TextIO) -> int:
    summaries = json.dumps(
        [run_summary(run) for run in runs], indent=1, allow_nan=False, default=str
    ).replace("\n", "\n ")
    out.write(f'{{\n "format": "{EXPORT_FORMAT}",\n "columns": {json.dumps(COLUMNS)},\n')
    out.write(f' "runs": {summaries},\n "scalars": [')
    count = 0
    for run in runs:
        name = json.dumps(full_name(run.info))
        for tag in tags_of(run, tags):
            prefix = f'\n  {{"run": {name}, "tag": {json.dumps(tag)}, "step": '
            series = run.reader.series(tag)
            for steps, epochs, times, values in _chunks(series):
                out.write(
                    "".join(
                        f'{"," if count or i else ""}{prefix}{s}, "epoch": '
                        f'{"null" if e == "nan" else e}, "time": {_json_number(t)}, '
                        f'"value": {_json_number(v)}}}'
                        for i, (s, e, t, v) in enumerate(
                            zip(steps, epochs, times, values, strict=True)
                        )
                    )
                )
                count += len(steps)
    out.write("\n ]\n}\n")
    return count


def _json_number(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "null"
    return '"Infinity"' if value > 0 else '"-Infinity"'


def run_summary(run: LoadedRun) -> dict[str, Any]:
    """A run's facts for the JSON export: who, config, final status and outcomes."""
    info, reader = run.info, run.reader
    status = reader.status
    stopping = reader.latest("early_stopping")
    return strict_json(
        {
            "run": full_name(info),
            "experiment": info.experiment,
            "run_id": info.run_id,
            "path": str(info.path),
            "created": info.created,
            "device": info.device,
            "host": status.host,
            "state": status.state,
            "status": status.status,
            "reason": status.reason,
            "epoch": status.epoch,
            "step": status.step,
            "config": reader.meta.get("config"),
            "experiment_file": frozen_experiment(info.path),
            "early_stopping": (
                {key: stopping.get(key) for key in _OUTCOME_KEYS} if stopping else None
            ),
            "test": _fields(reader.latest("test")),
            "confusion": _fields(reader.latest("confusion")),
            "points": {tag: len(reader.series(tag)) for tag in reader.tags()},
        }
    )


def frozen_experiment(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's frozen experiment file as data, or None without one (or if unreadable)."""
    path = Path(run_dir) / EXPERIMENT
    if not path.is_file():
        return None
    try:
        return loads_toml(read_text_limited(path), source=str(path))
    except (OSError, ValueError):
        return None


def _fields(event: dict[str, Any] | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {key: value for key, value in event.items() if key not in ("kind", "time")}


def strict_json(value: Any, depth: int = 0) -> Any:
    """``value`` with NaN as None and ±inf as ``"Infinity"``/``"-Infinity"``, so that
    ``json.dumps(..., allow_nan=False)`` accepts it; nesting deeper than 64 is cut."""
    if isinstance(value, float):
        return value if math.isfinite(value) else json.loads(_json_number(value))
    if depth > _MAX_DEPTH and isinstance(value, dict | list):
        return "…"
    if isinstance(value, dict):
        return {str(key): strict_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item, depth + 1) for item in value]
    return value


def write_output(path: str | None, write: Any) -> int:
    """Run ``write(stream)`` into ``path`` (atomically: a partial export never replaces a
    file), or into stdout when ``path`` is None or ``-``. Returns what ``write`` returns."""
    import sys

    if path is None or path == "-":
        return int(write(sys.stdout))
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        # mkstemp makes the file private; an export gets the mode any new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            result = int(write(stream))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
