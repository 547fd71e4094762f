"""What the sweep view's trials table holds, worked out without Textual: columns, cells, order.

The columns are the trial's number and state, the objective, the epoch it was
scored at, how long the trial took, and one per varied value (named by its
field path without the table, on two lines: ``layers[0]`` over ``out_features``).
Every column sorts; trials without a value in it go last whichever way it sorts.
`fit_trial_columns` decides which columns a width shows whole (the rest give way).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_duration, format_number

if TYPE_CHECKING:
    from dltui.sweep.report import SweepReport, TrialRow

TRIAL_STATE_COLOURS = {
    "running": "success",
    "finished": "primary",
    "pruned": "warning",
    "failed": "error",
    "stopped": "warning",
    "waiting": "foreground-muted",
}
"""Theme variable each trial state is drawn in."""


@dataclass(frozen=True)
class TrialColumn:
    """One column: its key (``#``, ``state``, ``param:<path>``, ``objective`` ...) and heading.

    A varied value's heading takes two lines, ``over`` its ``label`` (``layers[0]`` over
    ``out_features``): its column is as wide as the longer part, not the whole path.
    """

    key: str
    label: str
    over: str = ""

    @property
    def name(self) -> str:
        """The heading on one line (``layers[0].out_features``)."""
        return f"{self.over}.{self.label}" if self.over else self.label


GIVES_WAY = ("duration", "best_epoch")
"""Columns left out first, in this order, when the table is too wide for the terminal;
then the varied values from the last. The number, state and objective always stay."""


def param_label(path: str) -> str:
    """A varied field's short name: its path without the table it is in
    (``training.optimizer.lr`` -> ``optimizer.lr``, ``model.layers[0].out_features`` ->
    ``layers[0].out_features``)."""
    head, _, rest = path.partition(".")
    return printable(rest if rest else head, keep_newlines=False)


def param_heading(path: str) -> tuple[str, str]:
    """A varied field's heading as (line over, line under): its field's name under the
    rest of its short name (``layers[0]`` over ``out_features``; ``data`` over
    ``batch_size``; a field of the file's top level alone)."""
    short = param_label(path)
    over, dot, field = short.rpartition(".")
    if dot:
        return over, field
    table, dot, _ = path.partition(".")
    return (printable(table, keep_newlines=False) if dot else ""), short


def trial_columns(report: SweepReport) -> list[TrialColumn]:
    """The table's columns for ``report``'s sweep."""
    from dltui.tui.screens.run_list import short_metric

    params = [
        TrialColumn(f"param:{path}", *reversed(param_heading(path))) for path in report.params
    ]
    metric = printable(short_metric(report.metric), keep_newlines=False)
    # The objective before the values: on a narrow terminal it stays in view.
    return [
        TrialColumn("#", "#"),
        TrialColumn("state", "State"),
        TrialColumn("objective", f"{metric} {'↑' if report.maximize else '↓'}"),
        TrialColumn("best_epoch", "Epoch"),
        TrialColumn("duration", "Time"),
        *params,
    ]


def heading_lines(column: TrialColumn, width: int, mark: str, two_lines: bool) -> tuple[str, str]:
    """The (over, under) lines of ``column``'s heading in ``width`` cells, with the sort
    ``mark`` (``▲``, ``▼`` or ``""``) after its name, or on the line over it where the name
    has no room: a sort mark widens no column that has a line to spare."""
    if not mark:
        return column.over, column.label
    from rich.cells import cell_len

    if cell_len(column.label) + 1 + cell_len(mark) <= width or not two_lines:
        return column.over, f"{column.label} {mark}"
    if cell_len(column.over) + (1 if column.over else 0) + cell_len(mark) <= width:
        return (f"{column.over} {mark}" if column.over else mark), column.label
    return column.over, f"{column.label} {mark}"


def column_width(column: TrialColumn, cells: Sequence[str]) -> int:
    """Cells ``column`` needs for its heading (without a sort mark) and ``cells``."""
    from rich.cells import cell_len

    return max([cell_len(column.over), cell_len(column.label), *(cell_len(c) for c in cells)])


def fit_trial_columns(
    columns: Sequence[TrialColumn], rows: Sequence[Sequence[str]], width: int | None, padding: int
) -> list[TrialColumn]:
    """The ``columns`` that fit ``width`` cells whole with their ``rows`` of cells (each
    column ``padding`` wider), in their order; those in `GIVES_WAY` go first, then the
    varied values from the last. Room is kept for the sort mark wherever it would widen
    a column, so sorting never pushes a column out."""
    from rich.cells import cell_len

    if width is None:
        return list(columns)
    two_lines = any(c.over for c in columns)
    widths = [column_width(c, [row[i] for row in rows]) for i, c in enumerate(columns)]

    def widening(at: int) -> int:
        over, under = heading_lines(columns[at], widths[at], "▲", two_lines)
        return max(0, cell_len(over) - widths[at], cell_len(under) - widths[at])

    def needs(kept: list[int]) -> int:
        # One column is sorted at a time: room for the most its mark may widen one.
        return sum(widths[i] + padding for i in kept) + max(map(widening, kept), default=0)

    kept = list(range(len(columns)))
    keys = [c.key for c in columns]
    order = [keys.index(k) for k in GIVES_WAY if k in keys]
    order += [i for i in reversed(kept) if keys[i].startswith("param:")]
    for at in order:
        if needs(kept) <= width:
            break
        kept.remove(at)
    return [columns[i] for i in kept]


def sort_value(trial: TrialRow, key: str) -> Any:
    """What the column ``key`` sorts ``trial`` by (None: no value)."""
    if key == "#":
        return trial.number
    if key == "state":
        return trial.state
    if key == "objective":
        return trial.value
    if key == "best_epoch":
        return trial.best_epoch
    if key == "duration":
        return trial.duration
    if key.startswith("param:"):
        return trial.params.get(key[len("param:") :])
    return None


def sort_trials(trials: Sequence[TrialRow], key: str, descending: bool) -> list[TrialRow]:
    """``trials`` in the order of column ``key``; trials without a value last, by number."""
    by_number = sorted(trials, key=lambda t: t.number)
    with_value = [t for t in by_number if sort_value(t, key) is not None]
    without = [t for t in by_number if sort_value(t, key) is None]

    def order(trial: TrialRow) -> tuple[int, Any]:
        value = sort_value(trial, key)
        # Numbers before text (a choice may mix them), each in its own order.
        if isinstance(value, bool | int | float):
            return (0, float(value))
        return (1, str(value))

    # Stable either way: trials that tie stay in the order they ran.
    return sorted(with_value, key=order, reverse=descending) + without


def format_param(value: Any) -> str:
    """A sampled value in a cell: numbers in four significant digits, text as text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value, 4) if math.isfinite(value) else str(value)
    return printable(str(value), keep_newlines=False)


def trial_cells(
    trial: TrialRow, columns: Sequence[TrialColumn], now: float | None = None
) -> list[str]:
    """The text of each column for ``trial``.

    A running trial shows its latest reported value and epoch, and its time so far,
    each with ``…``: the race as it goes (it is scored when it ends).
    """
    running = trial.state == "running"
    latest = max(trial.intermediate) if running and trial.intermediate else None
    cells: list[str] = []
    for column in columns:
        key = column.key
        if key == "#":
            cells.append(str(trial.number))
        elif key == "state":
            cells.append(trial.state)
        elif key == "objective":
            if latest is not None:
                cells.append(format_param(trial.intermediate[latest]) + "…")
            else:
                cells.append(format_param(trial.value))
        elif key == "best_epoch":
            if latest is not None:
                cells.append(f"{latest}…")
            else:
                cells.append("-" if trial.best_epoch is None else str(trial.best_epoch))
        elif key == "duration":
            if running and trial.started is not None and now is not None:
                cells.append(format_duration(max(0.0, now - trial.started)) + "…")
            else:
                cells.append("-" if trial.duration is None else format_duration(trial.duration))
        else:
            cells.append(format_param(sort_value(trial, key)))
    return cells


def trial_counts(report: SweepReport) -> str:
    """``5 finished, 1 pruned, 2 running``: how many trials are in each state."""
    counts = report.counts()
    order = ["finished", "pruned", "failed", "running", "stopped", "waiting"]
    parts = [f"{counts[state]} {state}" for state in order if counts.get(state)]
    parts += [
        f"{n} {printable(s, keep_newlines=False)}" for s, n in counts.items() if s not in order
    ]
    return ", ".join(parts) if parts else "no trials yet"
