"""What the sweep view plots, worked out without Textual: objective against trial and values.

`progress_traces`: each finished trial's objective by its number, pruned
trials' last reported value apart, and the best so far as a step line.
`param_plot`: the objective against one varied value (a log x for a
log-uniform range; choices that are not numbers are placed by their index,
named in the title). `importance_lines`: Optuna's ranking as bars, or why
there is none yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dltui.safe_text import printable
from dltui.tui.widgets.sweep_plot import SweepTrace

if TYPE_CHECKING:
    from dltui.sweep.report import SweepReport


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def progress_traces(report: SweepReport) -> list[SweepTrace]:
    """The objective of each trial against its number, and the best-so-far line."""
    finished = [t for t in report.trials if t.state == "finished" and _finite(t.value)]
    finished.sort(key=lambda t: t.number)
    traces = [
        SweepTrace(
            "trial",
            [float(t.number) for t in finished],
            [float(t.value) for t in finished if t.value is not None],
            colour="primary",
        )
    ]
    pruned = [
        (t.number, t.intermediate[max(t.intermediate)])
        for t in report.trials
        if t.state == "pruned" and t.intermediate
    ]
    if pruned:
        traces.append(
            SweepTrace(
                "pruned (last value)",
                [float(n) for n, _ in pruned],
                [float(v) for _, v in pruned],
                colour="warning",
            )
        )
    steps = report.best_so_far()
    if steps:
        xs: list[float] = []
        ys: list[float] = []
        last = max(t.number for t in report.trials)
        for index, (number, best) in enumerate(steps):
            until = steps[index + 1][0] if index + 1 < len(steps) else max(last, number)
            xs += [float(number), float(until)]
            ys += [best, best]
        # Drawn first, so the trials' dots on it (ties with the best) stay in view.
        traces.insert(0, SweepTrace("best so far", xs, ys, colour="success", line=True))
    return traces


@dataclass(frozen=True)
class ParamPlot:
    """One parameter's scatter: its traces, title and x scale."""

    path: str
    title: str
    traces: list[SweepTrace]
    log_x: bool
    x_ticks: list[tuple[float, str]]
    """The places of choices that are not numbers, and their names."""


def _distribution(report: SweepReport, path: str) -> dict[str, Any]:
    spec = report.folder.info.get("spec")
    params = spec.get("params") if isinstance(spec, dict) else None
    found = params.get(path) if isinstance(params, dict) else None
    return found if isinstance(found, dict) else {}


def param_plot(report: SweepReport, path: str) -> ParamPlot:
    """The objective against the value of ``path`` in each finished trial."""
    distribution = _distribution(report, path)
    finished = [t for t in report.trials if t.state == "finished" and _finite(t.value)]
    values = [t.params.get(path) for t in finished]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    title = printable(path, keep_newlines=False)
    ticks: list[tuple[float, str]] = []
    if numeric:
        xs = [float(v) for v in values]  # type: ignore[arg-type]
    else:
        choices = distribution.get("choices")
        order = list(choices) if isinstance(choices, list) else []
        order += [v for v in dict.fromkeys(values) if v not in order]
        xs = [float(order.index(v)) for v in values]
        ticks = [(float(i), printable(str(v), keep_newlines=False)) for i, v in enumerate(order)]
    ys = [float(t.value) for t in finished if t.value is not None]
    log_x = bool(distribution.get("log")) and numeric
    metric = printable(report.metric, keep_newlines=False)
    return ParamPlot(path, title, [SweepTrace(metric, xs, ys, colour="primary")], log_x, ticks)


_MIN_BAR = 16
"""Cells the longest importance bar keeps before the names give way."""


def importance_lines(report: SweepReport, width: int, finished: int, needed: int) -> list[str]:
    """Optuna's parameter importances as bars in ``width`` cells, or why there are none."""
    if len(report.params) < 2:
        return ["One varied parameter: there is nothing to rank it against."]
    if report.importances is None:
        if finished < needed:
            return [f"Parameter importances need ≥ {needed} finished trials ({finished} so far)."]
        return ["Optuna could not rank the parameters yet (too few distinct values)."]
    names = {path: printable(path, keep_newlines=False) for path in report.importances}
    # Names whole while the bars keep a fair share of the line; only then elided.
    label_width = min(max(len(n) for n in names.values()), max(8, width - 7 - _MIN_BAR))
    bar_room = max(4, width - label_width - 7)
    top = max(report.importances.values()) or 1.0
    lines = []
    for path, share in sorted(report.importances.items(), key=lambda item: -item[1]):
        name = names[path]
        name = name if len(name) <= label_width else name[: label_width - 1] + "…"
        bar = "█" * max(1 if share > 0 else 0, round(bar_room * share / top))
        lines.append(f"{name.ljust(label_width)} {share * 100:4.0f}% {bar}")
    return lines
