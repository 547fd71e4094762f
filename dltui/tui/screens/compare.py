"""Compare runs: one metric of several runs overlaid, and the experiment fields that differ."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from dltui.logs.sources import LOGGING
from dltui.logs.tag_match import SharedMetric, metric_key, shared_metrics
from dltui.run_format import (
    GAN_LOSSES,
    GRAD_NORM_PREFIX,
    LOSS,
    MEMORY_PREFIX,
    SYSTEM_PREFIX,
    epoch_tag,
    tag,
)
from dltui.safe_text import printable
from dltui.tui.commands import COMPARE
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import RunUpdated
from dltui.tui.plotting.series import PlotSeries, XAxis
from dltui.tui.screens.curve_controls import CurveControls
from dltui.tui.screens.dashboard_screen import DashboardScreen
from dltui.tui.widgets.line_plot import LinePlot
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.watch import RunFollower

PREFERRED_TAGS = (
    tag("val", LOSS),
    tag("train", LOSS),
    epoch_tag(tag("train", LOSS)),
    *(tag("train", loss) for loss in reversed(GAN_LOSSES)),
)
"""Tags offered first, in this order; then every other metric alphabetically."""

_SKIPPED_PREFIXES = (GRAD_NORM_PREFIX, SYSTEM_PREFIX, MEMORY_PREFIX)
"""Families of tags about the run rather than the model: offered last."""


def comparable_metrics(tag_lists: list[list[str]]) -> list[SharedMetric]:
    """Metrics worth overlaying: those any run has (one metric however each run's tool
    spells it: `dltui.logs.tag_match`), the usual ones first, noisy families last."""
    metrics = shared_metrics(tag_lists)
    preferred = [metric_key(name) for name in PREFERRED_TAGS]

    def order(metric: SharedMetric) -> tuple[int, int, str]:
        key = metric_key(metric.name)
        if key in preferred:
            return (0, preferred.index(key), "")
        return (2 if metric.name.startswith(_SKIPPED_PREFIXES) else 1, 0, metric.name)

    return sorted(metrics, key=order)


def run_label(run_dir: Path, all_dirs: list[Path]) -> str:
    """``experiment/run-id``, shortened to the run id when every run has the same experiment."""
    if len({d.parent.name for d in all_dirs}) == 1:
        return run_dir.name
    return f"{run_dir.parent.name}/{run_dir.name}"


class CompareScreen(ReportsWorkerErrors, CurveControls, DashboardScreen):
    """Several runs' curves of one metric, overlaid with stable colours and a legend."""

    CSS_PATH = "compare.tcss"
    SCOPE = COMPARE
    BINDINGS: ClassVar = COMPARE.bindings()

    tag: reactive[str] = reactive("")
    smoothing: reactive[float] = reactive(0.6)
    smoothing_on: reactive[bool] = reactive(True)
    log_y: reactive[bool] = reactive(False)
    x_axis: reactive[XAxis] = reactive("step")
    show_raw: reactive[bool] = reactive(False)
    """Raw lines behind the smoothed ones: off here, where each run's colour must read as
    one line (two runs with raw lines are four lines in two colours)."""
    show_diff: reactive[bool] = reactive(True)

    @dataclass
    class ReadersReady(Message):
        """Every run's history has been read (on a worker)."""

        readers: list[RunSource]
        frozen: list[dict[str, Any]]
        """Each run's frozen experiment, as a table (empty when unreadable)."""
        problems: list[str]

    def __init__(self, run_dirs: list[Path]) -> None:
        super().__init__()
        self.run_dirs = [Path(d) for d in run_dirs]
        self.readers: list[RunSource] = []
        self.followers: list[RunFollower] = []
        self.metrics: list[SharedMetric] = []

    @property
    def tags(self) -> list[str]:
        """The metrics offered, by the names shown."""
        return [metric.name for metric in self.metrics]

    @property
    def metric(self) -> SharedMetric | None:
        """The metric shown (each run's tag of it), or None before the runs are read."""
        return next((m for m in self.metrics if m.name == self.tag), None)

    def compose(self) -> ComposeResult:
        """Title, plot beside the differences table, footer."""
        yield Static(self._title(), id="compare-title")
        with Horizontal(id="compare-body"):
            plot = make_plot("compare-plot")
            plot.border_title = "Curves"
            yield plot
            from dltui.tui.widgets.diff_pane import DiffPane

            with VerticalScroll(id="compare-diff") as diff:
                diff.border_title = "Fields that differ"
                yield DiffPane(id="compare-diff-fields")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Read every run on a worker."""
        self.set_class(self.size.width < 110, "-narrow")
        self._read()

    def on_resize(self) -> None:
        """Stack plot and table on narrow terminals."""
        self.set_class(self.size.width < 110, "-narrow")

    def on_unmount(self) -> None:
        """Stop following the runs."""
        for follower in self.followers:
            follower.stop()
        self.followers = []

    def _title(self) -> str:
        smooth = f"smooth {self.smoothing:g}" if self.smoothing_on else "smooth off"
        raw = " · raw lines" if self.show_raw and self.smoothing_on else ""
        tag = escape(printable(self.tag, keep_newlines=False)) if self.tag else "…"
        return (
            f"[b]Compare {len(self.run_dirs)} runs[/b]  metric [b $accent]{tag}[/]  "
            f"[$text-muted]{smooth}{raw} · {'log' if self.log_y else 'linear'} · "
            f"x: {self.x_axis}[/]"
        )

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _read(self) -> None:
        from dltui.tui.experiment_diff import read_frozen
        from dltui.tui.sources import open_source, tool_of_source

        readers: list[RunSource] = [open_source(d) for d in self.run_dirs]
        frozen: list[dict[str, Any]] = []
        problems: list[str] = []
        for run_dir, reader in zip(self.run_dirs, readers, strict=True):
            if tool_of_source(reader) is not None:
                # Another tool's run: its logged hyper-parameters stand for the experiment.
                frozen.append(dict(reader.meta.get("config") or {}))
                continue
            table, problem = read_frozen(run_dir)
            frozen.append(table)
            if problem:
                problems.append(problem)
        self.post_message(self.ReadersReady(readers, frozen, problems))

    @on(ReadersReady)
    def _readers_ready(self, message: ReadersReady) -> None:
        from dltui.tui.watch import RunFollower

        self.readers = message.readers
        self.metrics = comparable_metrics([reader.tags() for reader in self.readers])
        self._fill_diff(message.frozen)
        for problem in message.problems:
            # A path or a parser's message, not markup: shown as it is.
            self.notify(printable(problem), severity="warning", timeout=6, markup=False)
        if self.tags and self.tag not in self.tags:
            self.tag = self.tags[0]
        else:
            self._replot()
        interval = self.dashboard.follow_interval
        for reader in self.readers:
            # Another tool's run is never alive to dltui: followed while its files change.
            if reader.status.alive or reader.status.state == LOGGING:
                follower = RunFollower(
                    reader,
                    self._poster(reader.run_dir),
                    interval=interval,
                    backlog=lambda: self.message_queue_size,
                )
                self.followers.append(follower)
                follower.start()

    def _poster(self, run_dir: Path) -> Callable[[RunChanges], None]:
        def post(changes: RunChanges) -> None:
            # Runs on the follower's thread.
            self.post_message(RunUpdated(run_dir, changes))

        return post

    def _fill_diff(self, frozen: list[dict[str, Any]]) -> None:
        from dltui.tui.experiment_diff import differing_fields
        from dltui.tui.plotting.series import SERIES_COLORS, assign_colors
        from dltui.tui.widgets.diff_pane import DiffPane

        # The same colour per run as its line in the plot (keyed by the run's folder).
        colors = assign_colors(str(run_dir) for run_dir in self.run_dirs)
        runs = [
            (run_label(run_dir, self.run_dirs), SERIES_COLORS[colors[str(run_dir)]])
            for run_dir in self.run_dirs
        ]
        self.query_one(DiffPane).show(runs, differing_fields(frozen))

    @on(RunUpdated)
    def _run_updated(self, message: RunUpdated) -> None:
        changes = message.changes
        if changes is not None and changes.new_tags:
            self.metrics = comparable_metrics([reader.tags() for reader in self.readers])
        metric = self.metric
        if changes is None or (metric is not None and metric.all_tags & changes.tags):
            self._replot()

    def _replot(self) -> None:
        plot = self.query_one("#compare-plot", LinePlot)
        labels = [run_label(d, self.run_dirs) for d in self.run_dirs]
        locks = [f.lock for f in self.followers]
        for lock in locks:
            lock.acquire()
        try:
            metric = self.metric
            plot_runs(
                plot,
                self.readers,
                labels,
                self.tag,
                metric.tags if metric is not None else None,
                smoothing=self.smoothing if self.smoothing_on else 0.0,
                log_y=self.log_y,
                x_axis=self.x_axis,
                show_raw=self.show_raw,
            )
        finally:
            for lock in locks:
                lock.release()
        plot.border_title = printable(self.tag, keep_newlines=False) if self.tag else "Curves"
        self.query_one("#compare-title", Static).update(self._title())

    def watch_tag(self) -> None:
        """A new metric: redraw."""
        if self.is_mounted:
            self._replot()

    watch_smoothing = watch_tag
    watch_smoothing_on = watch_tag
    watch_log_y = watch_tag
    watch_x_axis = watch_tag
    watch_show_raw = watch_tag

    def watch_show_diff(self, show: bool) -> None:
        """Show or hide the differences."""
        self.set_class(not show, "-no-diff")

    def action_next_tag(self) -> None:
        """The next metric."""
        if self.tags:
            index = self.tags.index(self.tag) if self.tag in self.tags else -1
            self.tag = self.tags[(index + 1) % len(self.tags)]

    def action_previous_tag(self) -> None:
        """The previous metric."""
        if self.tags:
            index = self.tags.index(self.tag) if self.tag in self.tags else 0
            self.tag = self.tags[(index - 1) % len(self.tags)]

    def action_toggle_diff(self) -> None:
        """Show or hide the fields that differ."""
        self.show_diff = not self.show_diff

    def action_smoothing(self) -> None:
        """Toggle smoothing."""
        self.smoothing_on = not self.smoothing_on

    def action_raw(self) -> None:
        """Show or hide each run's raw line behind its smoothed one."""
        self.show_raw = not self.show_raw

    def action_back(self) -> None:
        """Back to the browser."""
        self.dismiss()


def make_plot(widget_id: str) -> LinePlot:
    """A plot for the compare view (filled by `plot_runs`)."""
    return LinePlot("", id=widget_id, empty_message="none of these runs has this metric yet")


def plot_runs(
    plot: LinePlot,
    readers: Sequence[RunSource],
    labels: list[str],
    tag: str,
    run_tags: Sequence[str | None] | None = None,
    *,
    smoothing: float,
    log_y: bool,
    x_axis: XAxis,
    show_raw: bool = False,
) -> None:
    """Overlay ``tag`` of every reader, coloured by run (stable across metrics).

    ``run_tags`` names each reader's own tag of the metric where runs spell it
    differently (``Loss/train`` of a TensorBoard run beside ``train/loss``); a run
    whose tag is not ``tag`` says its tag in its legend label.
    """
    series = []
    own_tags = list(run_tags) if run_tags is not None else [tag] * len(readers)
    for reader, label, own in zip(readers, labels, own_tags, strict=True):
        if own is None:
            continue
        data = reader.series(own)
        if own != tag:
            label = f"{label} ({own})"
        if len(data):
            created = reader.meta.get("created")
            series.append(
                PlotSeries.from_series(
                    printable(label, keep_newlines=False),
                    data,
                    key=str(reader.run_dir),
                    time_origin=float(created) if isinstance(created, int | float) else None,
                    tag=own,
                )
            )
    plot.smoothing = smoothing
    plot.log_y = log_y
    plot.x_axis = x_axis
    plot.show_raw = show_raw
    plot.title = printable(tag, keep_newlines=False)
    plot.set_series(series)
