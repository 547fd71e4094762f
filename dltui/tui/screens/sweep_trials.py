"""What the sweep view's trials table holds, worked out without Textual: columns, cells, order.

The columns are the trial's number and state, the objective, the epoch it was
scored at, how long the trial took, and one per varied value (named by its
field path without the table, ``optimizer.lr``, ``layers[0].out_features``). Every column sorts;
trials without a value in it go last whichever way it sorts.
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
    """One column: its key (``#``, ``state``, ``param:<path>``, ``objective`` ...) and heading."""

    key: str
    label: str


def param_label(path: str) -> str:
    """A varied field's short name: its path without the table it is in
    (``training.optimizer.lr`` -> ``optimizer.lr``, ``model.layers[0].out_features`` ->
    ``layers[0].out_features``)."""
    head, _, rest = path.partition(".")
    return printable(rest if rest else head, keep_newlines=False)


def trial_columns(report: SweepReport) -> list[TrialColumn]:
    """The table's columns for ``report``'s sweep."""
    params = [TrialColumn(f"param:{path}", param_label(path)) for path in report.params]
    metric = printable(report.metric, keep_newlines=False)
    # The objective before the values: on a narrow terminal it stays in view.
    return [
        TrialColumn("#", "#"),
        TrialColumn("state", "State"),
        TrialColumn("objective", f"{metric} {'↑' if report.maximize else '↓'}"),
        TrialColumn("best_epoch", "Epoch"),
        TrialColumn("duration", "Time"),
        *params,
    ]


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
