"""`dltui ls`: the runs as a table for people, or as JSON for scripts.

One row per run, newest first: experiment, run id, state, age, epoch, the best
monitored value with the metric it is of, and the device. On a terminal the table
fits its width (long names are cut with ``…``); piped, nothing is cut, so that
``awk`` and ``cut`` see every character.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltui.bounded import loads_toml, read_text_limited
from dltui.report.terminal import paint
from dltui.run_format import DEAD, EXPERIMENT, FAILED, FINISHED, RUNNING, STARTING, STOPPED
from dltui.runs.discovery import RunInfo
from dltui.runs.filters import experiment_words
from dltui.safe_text import printable

STATE_COLOURS = {
    RUNNING: 40,
    STARTING: 45,
    FINISHED: 33,
    STOPPED: 178,
    FAILED: 196,
    DEAD: 196,
}
"""256-colour index each state is written in on a terminal."""


@dataclass(frozen=True)
class Column:
    """One column of a text table: its header, alignment and whether it may be cut."""

    header: str
    right: bool = False
    cut: bool = False


COLUMNS = (
    Column("EXPERIMENT", cut=True),
    Column("RUN"),
    Column("STATUS"),
    Column("AGE", right=True),
    Column("EPOCH", right=True),
    Column("BEST", cut=True),
    Column("DEVICE"),
)


def format_age(seconds: float | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: how long ago, in the fewest characters."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def format_value(value: float | None) -> str:
    """A metric value in at most 9 characters (``-`` when there is none)."""
    if value is None:
        return "-"
    if value != value:
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


def format_epoch(run: RunInfo) -> str:
    """The run's epoch (whole when it is), else its step as ``s1200``, else ``-``."""
    if run.epoch is not None and math.isfinite(run.epoch):
        return f"{run.epoch:.0f}" if float(run.epoch).is_integer() else f"{run.epoch:.1f}"
    if run.step is not None:
        return f"s{run.step}"
    return "-"


def format_best(run: RunInfo) -> str:
    """``0.9933 val/accuracy``: the best value with the metric it is of."""
    if run.best is None:
        return "-"
    monitor = printable(run.monitor, keep_newlines=False) if run.monitor else ""
    return f"{format_value(run.best)} {monitor}".rstrip()


def table_cells(run: RunInfo, now: float) -> list[str]:
    """The table's cells for ``run`` (text from its files made printable)."""
    return [
        printable(run.experiment, keep_newlines=False),
        printable(run.run_id, keep_newlines=False),
        run.state,
        format_age(now - run.created if run.created is not None else None),
        format_epoch(run),
        format_best(run),
        _device_cell(run),
    ]


def _device_cell(run: RunInfo) -> str:
    """The device, or for another tool's run its mark (``tb``, ``csv``): it has no device."""
    if run.source:
        from dltui.logs.sources import source_mark

        return source_mark(run.source)
    return printable(run.device, keep_newlines=False) if run.device else "-"


def format_table(
    runs: Sequence[RunInfo], now: float, *, width: int | None = None, colour: bool = False
) -> str:
    """The runs as an aligned table with a header line; fitted to ``width`` when given.

    To fit, the columns close up to one space, then the device column goes, then
    experiment names and best values are cut (never below 10 and 14 columns).
    """
    rows = [table_cells(run, now) for run in runs]
    shown = list(range(len(COLUMNS)))
    widths = {i: max([len(COLUMNS[i].header), *(len(row[i]) for row in rows)]) for i in shown}
    gap = 2

    def total() -> int:
        return sum(widths[i] for i in shown) + gap * (len(shown) - 1)

    if width is not None:
        if total() > width:
            gap = 1
        if total() > width:
            shown.remove(_DEVICE)
        _fit(widths, shown, width - gap * (len(shown) - 1))
    lines = [_line({i: COLUMNS[i].header for i in shown}, widths, {}, gap)]
    for run, row in zip(runs, rows, strict=True):
        colours = {_STATUS: STATE_COLOURS.get(run.state)} if colour else {}
        lines.append(_line({i: row[i] for i in shown}, widths, colours, gap))
    return "\n".join(lines) + "\n"


_STATUS, _DEVICE = 2, 6
_FLOORS = {0: 10, 5: 14}
"""The narrowest the cuttable columns (experiment, best) become."""


def _fit(widths: dict[int, int], shown: list[int], room: int) -> None:
    """Narrow the cuttable columns, widest first, until the table fits ``room`` columns."""
    cuttable = [i for i in shown if COLUMNS[i].cut]
    while sum(widths[i] for i in shown) > room:
        candidates = [i for i in cuttable if widths[i] > _FLOORS[i]]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1


def _line(
    cells: dict[int, str], widths: dict[int, int], colours: dict[int, int | None], gap: int
) -> str:
    parts = []
    for index, cell in cells.items():
        size = widths[index]
        text = cell if len(cell) <= size else cell[: max(0, size - 1)] + "…"
        padded = text.rjust(size) if COLUMNS[index].right else text.ljust(size)
        if colours.get(index) is not None:
            padded = paint(padded, colours[index])
        parts.append(padded)
    return (" " * gap).join(parts).rstrip()


def run_record(run: RunInfo, now: float) -> dict[str, Any]:
    """One run as a JSON object for scripts (strict JSON: NaN becomes null)."""
    return {
        "run": f"{run.experiment}/{run.run_id}",
        "experiment": run.experiment,
        "run_id": run.run_id,
        "path": str(run.path),
        "state": run.state,
        "status": run.status.status,
        "reason": run.reason,
        "alive": run.alive,
        "created": run.created,
        "age_s": None if run.created is None else round(max(0.0, now - run.created), 3),
        "epoch": finite_or_none(run.epoch),
        "step": run.step,
        "best": finite_or_none(run.best),
        "monitor": run.monitor,
        "best_epoch": run.best_epoch,
        "device": run.device,
        "host": run.status.host,
        "source": run.source,
    }


def finite_or_none(value: float | None) -> float | None:
    """``value`` when it is a finite number, else None (JSON has no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def words_from_frozen_experiments(runs: Sequence[RunInfo]) -> dict[str, str]:
    """Each experiment's filter words, from the frozen file of its newest run.

    The dashboard matches the experiment file in ``experiments/``; outside it the
    run's own copy is what the run was, and needs no experiments folder. Only the
    top-level ``tags`` and ``description`` are read, without validating the file.
    """
    newest: dict[str, RunInfo] = {}
    for run in runs:
        known = newest.get(run.experiment)
        if known is None or (run.created or 0.0) > (known.created or 0.0):
            newest[run.experiment] = run
    return {name: _words_of(name, run) for name, run in newest.items()}


def _words_of(name: str, run: RunInfo) -> str:
    source = run.meta.get("source")
    file_name = os.path.basename(source) if isinstance(source, str) else None
    tags: list[str] = []
    description = None
    path = Path(run.path) / EXPERIMENT
    if path.is_file():
        try:
            table = loads_toml(read_text_limited(path), source=str(path))
        except (OSError, ValueError):
            table = {}
        raw_tags = table.get("tags")
        if isinstance(raw_tags, list):
            tags = [tag for tag in raw_tags if isinstance(tag, str)]
        if isinstance(table.get("description"), str):
            description = table["description"]
    return experiment_words(name, file_name=file_name, tags=tags, description=description)
