"""What the browser's list holds, worked out without Textual: groups, rows and their cells.

The list is experiments, each followed by its runs. `visible_groups` keeps and
orders them with `dltui.runs.filters`, the rule `dltui ls` follows too (imported
when first needed: `dltui.runs` brings numpy, which the first paint does
without); `list_rows` writes each row's cells; the ``format_*`` functions write
one cell. A metric is always shown with its name: runs may watch different
metrics, and a bare number would mix them. Colours are theme variables, named
here and looked up by the widget that draws the list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.logs.sources import IDLE, LOGGING, source_mark
from dltui.run_format import (
    BROKEN,
    DEAD,
    FAILED,
    FINISHED,
    RUNNING,
    STARTING,
    STOPPED,
    UNKNOWN,
)
from dltui.safe_text import printable
from dltui.tui.sweep_catalog import sweep_label, trial_of

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.runs.filters import SortMode
    from dltui.tui.catalog import Catalog, ExperimentEntry
    from dltui.tui.launcher import LaunchedRun
    from dltui.tui.sweep_catalog import SweepEntry

STATE_COLOURS = {
    RUNNING: "success",
    STARTING: "accent",
    FINISHED: "primary",
    STOPPED: "warning",
    FAILED: "error",
    DEAD: "error",
    BROKEN: "error",
    UNKNOWN: "foreground-muted",
    LOGGING: "success",
    IDLE: "primary",
}
"""Theme variable each run state is drawn in (in the list, the details and the run view)."""

COLUMNS = (
    ("Experiment / run", "name"),
    ("Status", "status"),
    ("Age", "age"),
    ("Best (metric)", "best"),
    ("Epoch", "epoch"),
    ("Device", "device"),
)
"""The list's columns: heading and key."""

SHORT_LABELS = ("Name", "Status", "Age", "Best", "Ep", "Dev")
"""The headings, column by column, where the full ones do not fit (80 columns)."""

GIVE_WAY = ("device", "age")
"""Columns left out, in this order, when the list is still too wide with its experiment
and sweep names elided (the details pane says both of the selected row)."""

_MIN_NAME = 12
"""Fewest cells an experiment's or sweep's name is elided to."""


@dataclass(frozen=True)
class ColumnFit:
    """How the list is drawn in a width: the columns shown, their headings and widths,
    and how wide an experiment's or a sweep's name may be (None: whole)."""

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    widths: tuple[int, ...]
    name_width: int | None


def elide(text: str, width: int) -> str:
    """``text`` in ``width`` cells, its middle given way to ``…`` (both ends kept: a
    name's start and a sweep's ``(method)``)."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    tail = (width - 1) // 2
    head = width - 1 - tail
    start = set_cell_size(text, head)
    end = text[::-1]
    end = set_cell_size(end, tail)[::-1]
    return f"{start}…{end}"


def fit_columns(rows: Sequence[ListRow], width: int | None, padding: int = 2) -> ColumnFit:
    """The columns of ``rows`` in ``width`` cells (``padding`` around each column).

    What gives way, in order, until the list fits: the long headings, then the names of
    experiments and sweeps (elided, never a run's id), then the Device and Age columns.
    Nothing is cut: a cell is shown whole or its column is left out.
    """
    from rich.cells import cell_len

    all_keys = tuple(key for _, key in COLUMNS)
    full = tuple(label for label, _ in COLUMNS)

    def made(short: bool, keys: tuple[str, ...], name: int | None) -> ColumnFit:
        labels, found = [], []
        for key in keys:
            at = all_keys.index(key)
            cells = [cell_len(row.cells[at].text) for row in rows]
            if at == 0 and name is not None:
                cells = [
                    min(length, name) if elidable(row) else length
                    for row, length in zip(rows, cells, strict=True)
                ]
            widest = max(cells, default=0)
            # The short heading only where the full one would widen its column.
            label = SHORT_LABELS[at] if short and cell_len(full[at]) > widest else full[at]
            labels.append(label)
            found.append(max(widest, cell_len(label)))
        return ColumnFit(keys, tuple(labels), tuple(found), name)

    fit = made(False, all_keys, None)
    if width is None or sum(fit.widths) + padding * len(fit.keys) <= width:
        return fit
    runs_name = max(
        [_MIN_NAME, *(cell_len(row.cells[0].text) for row in rows if not elidable(row))]
    )
    keys = all_keys
    for dropped in ((), *(GIVE_WAY[: n + 1] for n in range(len(GIVE_WAY)))):
        keys = tuple(k for k in all_keys if k not in dropped)
        fit = made(True, keys, None)
        spare = width - (sum(fit.widths) + padding * len(keys))
        if spare >= 0:
            return fit
        # The name column may shrink to what the rest leaves, but not below the runs' ids.
        room = fit.widths[0] + spare
        if room >= runs_name:
            return made(True, keys, room)
    return made(True, keys, runs_name)  # as tight as it gets: it scrolls sideways


def elidable(row: ListRow) -> bool:
    """Whether the row's name may be elided: an experiment's or a sweep's (a run's id not)."""
    return row.key.startswith(("exp:", "sweep:"))


@dataclass(frozen=True)
class Group:
    """One experiment of the list and its runs, as shown."""

    name: str
    runs: list[RunInfo]
    """Its runs (and those just launched that have no records yet)."""
    entry: ExperimentEntry | None


@dataclass(frozen=True)
class Cell:
    """One cell of the list: its text, and the theme variable it is drawn in."""

    text: str
    colour: str | None = None
    bold: bool = False


@dataclass(frozen=True)
class ListRow:
    """One row: its key, what it stands for (a run, or an experiment's name), its cells."""

    key: str
    item: RunInfo | str | SweepEntry
    cells: tuple[Cell, ...]
    since: float | None
    """When the Age column counts from (None: no age)."""


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


def format_progress(run: RunInfo) -> str:
    """The epoch (as `format_epoch` writes it: ``30``, ``0.9``) or the step of a run, or ``-``."""
    from dltui.tui.plotting.axis import format_epoch

    if run.epoch is not None:
        return format_epoch(run.epoch)
    if run.step is not None:
        return f"s{run.step}"
    return "-"


def monitor_of(entry: ExperimentEntry | None, runs: Sequence[RunInfo]) -> str | None:
    """The metric an experiment's best is of: its file's monitor, else its newest run's."""
    from dltui.spec.early_stopping import metric_tag

    shown = entry.shown if entry is not None else None
    if shown is not None and shown.early_stopping is not None:
        return metric_tag(shown.early_stopping.monitor)
    for run in newest_first(runs):
        if run.monitor:
            return str(run.monitor)
    return None


def newest_first(runs: Iterable[RunInfo]) -> list[RunInfo]:
    """``runs``, the most recently started first (runs without a start time last)."""
    return sorted(runs, key=lambda r: -(r.created or 0))


def higher_is_better(monitor: str | None) -> bool:
    """Whether a larger value of ``monitor`` is better (accuracy) or worse (loss)."""
    from dltui.spec.early_stopping import auto_mode

    return monitor is not None and auto_mode(monitor) == "max"


def best_of(runs: Iterable[RunInfo], monitor: str | None) -> float | None:
    """The best value among the runs that watch ``monitor``."""
    values = [
        r.best for r in runs if r.best is not None and r.best == r.best and r.monitor == monitor
    ]
    if not values:
        return None
    return max(values) if higher_is_better(monitor) else min(values)


def experiment_words(name: str, entry: ExperimentEntry | None) -> str:
    """What the filter matches an experiment against (its name, file, tags, description)."""
    from dltui.runs.filters import experiment_words as words_of_experiment

    shown = entry.shown if entry is not None else None
    return words_of_experiment(
        name,
        file_name=entry.path.name if entry is not None else None,
        tags=shown.tags if shown is not None else (),
        description=shown.description if shown is not None else None,
        invalid=entry is not None and not entry.valid,
    )


def visible_groups(
    catalog: Catalog, extra_runs: Sequence[RunInfo], text: str, sort_mode: SortMode
) -> list[Group]:
    """The experiments and runs the filter ``text`` keeps, in ``sort_mode``'s order.

    ``extra_runs`` are runs not in the catalog yet (just launched). An experiment
    the text matches is listed with all its runs, even with none.
    """
    from dltui.runs.filters import experiment_order, filter_runs, sort_runs, text_matches

    names = catalog.experiment_names()
    names += [r.experiment for r in extra_runs if r.experiment not in names]
    entries = {name: catalog.entry_named(name) for name in dict.fromkeys(names)}
    words = {name: experiment_words(name, entry) for name, entry in entries.items()}
    kept = filter_runs([*catalog.runs, *extra_runs], text, words_of=words.__getitem__)
    groups: list[Group] = []
    for name, entry in entries.items():
        runs = [run for run in kept if run.experiment == name]
        if not runs and not text_matches(text, words[name]):
            continue
        monitor = monitor_of(entry, runs) if sort_mode == "best" else None
        ordered = sort_runs(
            runs, sort_mode, monitor=monitor, higher_is_better=higher_is_better(monitor)
        )
        groups.append(Group(name, ordered, entry))
    return sorted(groups, key=lambda g: experiment_order(sort_mode, g.name, g.runs))


def run_label(run: RunInfo, marked: bool) -> Cell:
    """The name cell of a run: indented under its experiment (a sweep's trial under its
    sweep, with its number), ``◆`` when marked, and another tool's mark (``tb``, ``csv``)
    after its name."""
    mark = "◆" if marked else " "
    run_id = printable(run.run_id, keep_newlines=False)
    if run.source:
        run_id += f" · {source_mark(run.source)}"
    trial = trial_of(run)
    if trial is not None:
        return Cell(f"   {mark}#{trial[1]} {run_id}")
    return Cell(f"  {mark} {run_id}")


def sweep_row(sweep: SweepEntry, now: float, folded: bool) -> ListRow:
    """A sweep's row: its name and method, live state, when it began, the best objective
    so far, and (where a run has its epoch) the trials done of its budget."""
    budget = sweep.folder.budget
    done = f"{sweep.done}/{budget}" if budget is not None else f"{sweep.done}"
    label = sweep_label(sweep.name)
    method = printable(sweep.folder.method, keep_newlines=False)
    created = sweep.folder.created
    return ListRow(
        sweep.key,
        sweep,
        (
            Cell(f"  {'▸' if folded else '▾'} {label} ({method})", bold=True),
            Cell(sweep.state, STATE_COLOURS.get(sweep.state, "foreground")),
            Cell(format_age(now - created if created else None)),
            Cell(format_best(sweep.best, sweep.metric)),
            Cell(done),  # a sweep's progress is its trials, as a run's is its epochs
            Cell(""),
        ),
        created,
    )


def list_rows(
    groups: Sequence[Group],
    now: float,
    *,
    marked: Collection[Path] = (),
    collapsed: Collection[str] = (),
    invalid: Callable[[ExperimentEntry], bool] = lambda entry: not entry.valid,
    sweeps: Sequence[SweepEntry] = (),
) -> list[ListRow]:
    """The rows of ``groups``: each experiment, then (unless ``collapsed``) its sweeps,
    each followed by its trials' runs (unless its key is ``collapsed``), then its other runs.

    ``invalid(entry)`` says whether `dltui check` finds the experiment's file wrong.
    """
    rows: list[ListRow] = []
    for group in groups:
        name, runs, entry = group.name, group.runs, group.entry
        folded = name in collapsed
        latest = max((r.created for r in runs if r.created), default=None)
        monitor = monitor_of(entry, runs)
        if entry is None and runs and all(run.source for run in runs):
            # Another tool's log folder: it has no experiment file, and needs none.
            status = Cell(f"{len(runs)} run{'s' if len(runs) != 1 else ''}", "foreground-muted")
        elif entry is None:
            status = Cell("no file", "foreground-muted")
        elif invalid(entry):
            status = Cell("invalid", "error")
        else:
            status = Cell(f"{len(runs)} run{'s' if len(runs) != 1 else ''}", "foreground-muted")
        rows.append(
            ListRow(
                f"exp:{name}",
                name,
                (
                    Cell(f"{'▸' if folded else '▾'} {printable(name, keep_newlines=False)}",
                         bold=True),
                    status,
                    Cell(format_age(now - latest if latest else None)),
                    Cell(format_best(best_of(runs, monitor), monitor)),
                    Cell(""),
                    Cell(""),
                ),
                latest,
            )
        )  # fmt: skip
        if folded:
            continue
        trials: dict[str, list[RunInfo]] = {}
        for run in runs:
            trial = trial_of(run)
            if trial is not None:
                trials.setdefault(trial[0], []).append(run)
        for sweep in sorted(
            (s for s in sweeps if s.experiment == name), key=lambda s: -(s.folder.created or 0)
        ):
            sweep_folded = sweep.key in collapsed
            rows.append(sweep_row(sweep, now, sweep_folded))
            own = trials.pop(sweep.name, [])
            if not sweep_folded:
                rows += [_run_row(run, now, marked) for run in own]
        swept = {id(run) for own in trials.values() for run in own}  # sweeps no longer there
        rows += [
            _run_row(run, now, marked) for run in runs if trial_of(run) is None or id(run) in swept
        ]
    return rows


def run_state(run: RunInfo) -> Cell:
    """A run's state cell; a sweep's trial stopped by the pruner says ``pruned``."""
    reason = run.reason or ""
    if run.state == STOPPED and reason.startswith("pruned") and trial_of(run) is not None:
        return Cell("pruned", STATE_COLOURS[STOPPED])
    return Cell(run.state, STATE_COLOURS.get(run.state, "foreground"))


def _run_row(run: RunInfo, now: float, marked: Collection[Path]) -> ListRow:
    return ListRow(
        f"run:{run.path}",
        run,
        (
            run_label(run, run.path in marked),
            run_state(run),
            Cell(format_age(now - run.created if run.created else None)),
            Cell(format_best(run.best, run.monitor)),
            Cell(format_progress(run)),
            Cell(printable(run.device or "-", keep_newlines=False)),
        ),
        run.created,
    )


def starting_runs(launched: Mapping[Path, LaunchedRun], listed: Iterable[RunInfo]) -> list[RunInfo]:
    """Runs this dashboard launched that have written nothing yet, listed as starting.

    Runs already ``listed`` (they have records now) and resumed runs (their run
    is listed) are left out.
    """
    from dltui.runs.discovery import RunInfo
    from dltui.runs.status import RunStatus

    known = {Path(run.path).resolve() for run in listed}
    runs = []
    for run_dir, process in list(launched.items()):
        path = Path(run_dir)
        if path.resolve() in known or process.experiment_path is None:
            continue
        try:
            created: float | None = path.stat().st_mtime
        except OSError:
            created = None
        status = RunStatus(STARTING, STARTING, None, None, process.pid, None, None, None, True)
        runs.append(
            RunInfo(
                experiment=path.parent.name,
                run_id=path.name,
                path=path,
                created=created,
                state=STARTING,
                reason="the trainer is starting",
                status=status,
            )
        )
    return runs


_MAX_LISTED = 10
"""Runs named one by one in the delete question; more are counted."""


def delete_question(
    runs: Sequence[RunInfo], size: int, hidden: int, runs_dir: Path
) -> tuple[str, str]:
    """The title and text of the question before ``runs`` (``size`` bytes) are deleted.

    ``hidden`` marked runs the filter hides are said to stay.
    """
    from dltui.tui.plotting.axis import format_bytes

    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    listed = [
        printable(f"  {run.experiment}/{run.run_id}  ({run.state})", keep_newlines=False)
        for run in runs[:_MAX_LISTED]
    ]
    if len(runs) > _MAX_LISTED:
        listed.append(f"  … and {len(runs) - _MAX_LISTED} more")
    lines = [
        *listed,
        "",
        f"{count}, {format_bytes(size)} on disk, from {printable(str(runs_dir))}.",
        f"The folder{'s are' if len(runs) != 1 else ' is'} removed for good: no undo.",
    ]
    if hidden:
        lines.append(
            f"{hidden} other marked run{'s' if hidden != 1 else ''}, hidden by the filter, "
            f"{'are' if hidden != 1 else 'is'} not deleted."
        )
    return f"Delete {count}?", "\n".join(lines)
