"""What the browser's list holds, worked out without Textual: filtering, order, cells.

The list is experiments, each followed by its runs. `visible_groups` filters and
sorts them; the ``format_*`` functions write the cells. A metric is always shown
with its name: runs may watch different metrics, and a bare number would mix them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dltui.tui.catalog import Catalog, ExperimentEntry

SORT_MODES = ("newest", "name", "best", "status")
"""The orders the browser cycles through with `o`."""

STATE_ORDER = {
    "running": 0,
    "starting": 1,
    "dead": 2,
    "failed": 3,
    "stopped": 4,
    "finished": 5,
    "broken": 6,
}


@dataclass(frozen=True)
class Group:
    """One experiment of the list and its runs, as shown."""

    name: str
    runs: list[Any]
    """`dltui.runs.RunInfo` (or a run just launched that has no records yet)."""
    entry: ExperimentEntry | None


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
    """A metric in at most 8 characters."""
    if value is None:
        return "-"
    if value != value:
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


_SHORT_METRICS = {"accuracy": "acc", "top5_accuracy": "top5", "perplexity": "ppl"}
"""Long metric names as the list writes them, so the Best column fits 80 columns."""


def short_metric(tag: str) -> str:
    """``val/accuracy`` -> ``val/acc``: a metric's name in a narrow cell."""
    split, _, leaf = tag.rpartition("/")
    leaf = _SHORT_METRICS.get(leaf, leaf)
    return f"{split}/{leaf}" if split else leaf


def format_best(value: float | None, monitor: str | None) -> str:
    """``0.4123 val/loss``: the best value with the metric it is of."""
    if value is None:
        return "-"
    return f"{format_value(value)} {short_metric(monitor)}" if monitor else format_value(value)


def format_progress(run: Any) -> str:
    """The epoch (one decimal) or the step of a run, or ``-``."""
    if run.epoch is not None:
        return f"{run.epoch:.1f}"
    if run.step is not None:
        return f"s{run.step}"
    return "-"


def monitor_of(entry: ExperimentEntry | None, runs: Sequence[Any]) -> str | None:
    """The metric an experiment's best is of: its file's monitor, else its newest run's."""
    from dltui.spec.early_stopping import metric_tag

    shown = entry.shown if entry is not None else None
    if shown is not None and shown.early_stopping is not None:
        return metric_tag(shown.early_stopping.monitor)
    for run in sorted(runs, key=lambda r: -(r.created or 0)):
        if run.monitor:
            return str(run.monitor)
    return None


def higher_is_better(monitor: str | None) -> bool:
    """Whether a larger value of ``monitor`` is better (accuracy) or worse (loss)."""
    from dltui.spec.early_stopping import auto_mode

    return monitor is not None and auto_mode(monitor) == "max"


def best_of(runs: Iterable[Any], monitor: str | None) -> float | None:
    """The best value among the runs that watch ``monitor``."""
    values = [
        r.best for r in runs if r.best is not None and r.best == r.best and r.monitor == monitor
    ]
    if not values:
        return None
    return max(values) if higher_is_better(monitor) else min(values)


def experiment_words(name: str, entry: ExperimentEntry | None) -> str:
    """What the filter matches an experiment against."""
    words = [name]
    if entry is not None:
        words.append(entry.path.name)
        shown = entry.shown
        if shown is not None:
            words.extend(shown.tags)
            words.append(shown.description)
        if not entry.valid:
            words.append("invalid")
    return " ".join(words).lower()


def run_words(run: Any) -> str:
    """What the filter matches a run against."""
    return " ".join([run.run_id, run.state, run.device or ""]).lower()


def visible_groups(
    catalog: Catalog, extra_runs: Sequence[Any], needle: str, sort_mode: str
) -> list[Group]:
    """The experiments and runs matching ``needle``, in ``sort_mode``'s order.

    ``extra_runs`` are runs not in the catalog yet (just launched).
    """
    needle = needle.strip().lower()
    groups: list[Group] = []
    names = catalog.experiment_names()
    names += [r.experiment for r in extra_runs if r.experiment not in names]
    for name in dict.fromkeys(names):
        entry = catalog.entry_named(name)
        runs = [*catalog.runs_of(name), *(r for r in extra_runs if r.experiment == name)]
        if needle and needle not in experiment_words(name, entry):
            runs = [run for run in runs if needle in run_words(run)]
            if not runs:
                continue
        groups.append(Group(name, _sorted_runs(runs, entry, sort_mode), entry))
    return _sorted_groups(groups, sort_mode)


def _sorted_runs(runs: list[Any], entry: ExperimentEntry | None, mode: str) -> list[Any]:
    if mode == "best":
        monitor = monitor_of(entry, runs)
        sign = -1.0 if higher_is_better(monitor) else 1.0

        def key(r: Any) -> tuple[bool, float]:
            usable = r.best is not None and r.monitor == monitor
            return (not usable, sign * r.best if usable else 0.0)

        return sorted(runs, key=key)
    if mode == "status":
        return sorted(runs, key=lambda r: (STATE_ORDER.get(r.state, 9), -(r.created or 0)))
    if mode == "name":
        return sorted(runs, key=lambda r: r.run_id)
    return sorted(runs, key=lambda r: -(r.created or 0))


def _sorted_groups(groups: list[Group], mode: str) -> list[Group]:
    if mode == "name":
        return sorted(groups, key=lambda g: g.name.lower())
    if mode == "status":
        return sorted(
            groups,
            key=lambda g: (min((STATE_ORDER.get(r.state, 9) for r in g.runs), default=9), g.name),
        )
    # newest (and best): the experiment with the latest activity first.
    return sorted(
        groups, key=lambda g: (-max((r.created or 0 for r in g.runs), default=0), g.name.lower())
    )
