"""The bodies of the run view's panes: the curves (laid out here) and the widgets' panes.

`CurvesPane` decides which plots a run needs — the loss, then one plot per
metric with its train and validation series, then the learning rate — adding
plots as new tags appear. The other panes are the widgets' own; every pane is a
`RunPane`, fed with ``update_from(source, changes)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget

from dltui.run_format import (
    EPOCH_SUFFIX,
    GAN_LOSSES,
    GAN_SCORES,
    LOSS,
    LR,
    is_metric,
    tag,
)
from dltui.tui.plotting.series import PlotSeries, XAxis
from dltui.tui.widgets.line_plot import LinePlot

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.widgets.run_pane import RunPane

LOSS_TAGS = (tag("train", LOSS), tag("val", LOSS))
GAN_LOSS_TAGS = tuple(tag("train", loss) for loss in reversed(GAN_LOSSES))
"""The generator's loss first, then the discriminator's."""
GAN_OUTPUT_TAGS = tuple(tag("train", score) for score in GAN_SCORES)
"""The discriminator's mean output on real and on generated samples: one plot, as they
are read together (both near 0.5 when the two networks are balanced)."""
_PLOTTED_SPLITS = ("train", "val")

MIN_PLOT_WIDTH = 34
MIN_PLOT_HEIGHT = 8
"""The smallest plot cell that still reads: a legend row, six rows of curve, x labels."""


def plot_groups(tags: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(title, tags) of each plot a run with ``tags`` gets, in display order."""
    present = set(tags)
    groups: list[tuple[str, tuple[str, ...]]] = []
    if present & set(GAN_LOSS_TAGS):
        groups.append(("GAN losses", GAN_LOSS_TAGS))
    if present & set(LOSS_TAGS) or not groups:
        groups.append(("Loss", LOSS_TAGS))
    if present & set(GAN_OUTPUT_TAGS):
        groups.append(("Discriminator output", GAN_OUTPUT_TAGS))
    names: list[str] = []
    for tag_name in tags:
        split, _, name = tag_name.partition("/")
        if split in _PLOTTED_SPLITS and name and name not in names and is_metric(tag_name):
            names.append(name)
    metrics = [
        name
        for name in names
        # A per-epoch twin (train/accuracy_epoch) repeats its per-step series' story.
        if not (name.endswith(EPOCH_SUFFIX) and name.removesuffix(EPOCH_SUFFIX) in names)
    ]
    for name in sorted(metrics):
        groups.append((name, tuple(tag(split, name) for split in _PLOTTED_SPLITS)))
    if LR in present:
        groups.append(("Learning rate", (LR,)))
    return groups


def series_labels(tags: tuple[str, ...]) -> list[str]:
    """Short legend labels: ``train``/``val`` when the plot's title already names the
    metric, else the tag's last part (``g_loss``, ``lr``)."""
    parts = [tag_name.partition("/") for tag_name in tags]
    if len(tags) > 1 and len({name for _, _, name in parts}) == 1:
        return [split for split, _, _ in parts]
    return [name or split for split, _, name in parts]


def grid_shape(count: int, width: int, height: int) -> tuple[int, int, int]:
    """(columns, rows, plots per page) for ``count`` plots in ``width`` x ``height`` cells.

    Every plot at once when they fit at `MIN_PLOT_WIDTH` x `MIN_PLOT_HEIGHT` or more,
    laid out as evenly as the space allows (a plot twice as wide as tall reads best);
    otherwise as many as fit, a page at a time.
    """
    count = max(1, count)
    most_columns = max(1, width // MIN_PLOT_WIDTH)
    most_rows = max(1, height // MIN_PLOT_HEIGHT)
    best: tuple[tuple[float, int], int] | None = None
    for columns in range(1, min(count, most_columns) + 1):
        rows = -(-count // columns)
        if rows > most_rows:
            continue
        cell_width, cell_height = width / columns, height / rows
        # A terminal cell is about twice as tall as wide: width/2.5 against height
        # favours plots a little wider than square. Fewer empty cells break ties.
        score = (min(cell_width / 2.5, cell_height), -(columns * rows - count))
        if best is None or score > best[0]:
            best = (score, columns)
    if best is not None:
        columns = best[1]
        return columns, -(-count // columns), count
    columns = min(count, most_columns)
    rows = min(-(-count // columns), most_rows)
    return columns, rows, columns * rows


class CurvesPane(Widget):
    """Loss and metric plots of one run in a grid that grows with the pane.

    Every plot is shown at once when they fit (`grid_shape`); when the pane is too
    small for all of them, they come a page at a time (`next_page`, the `p` key).
    A cursor (`move_cursor`) stands at one x in every plot at once.
    """

    DEFAULT_CSS = """
    CurvesPane {
        height: 1fr;
        layout: grid;
        /* Two columns: with one, a legend's end and the next plot's title read as one. */
        grid-gutter: 0 2;
        & LinePlot { height: 1fr; width: 1fr; min-height: 4; }
    }
    """

    def __init__(
        self,
        *,
        tags: list[str] | None = None,
        tool: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``tags``: the run's tags so far, so the first layout has the right plots;
        ``tool``: the other tool that logged the run (None: dltui), whose tags are
        grouped by their own conventions (`dltui.tui.sources.log_plot_groups`)."""
        super().__init__(id=id, classes=classes)
        self.tool = tool
        self.groups: list[tuple[str, tuple[str, ...]]] = self._groups_of(tags or [])
        self.options: dict[str, Any] = {
            "smoothing": 0.6,
            "log_y": False,
            "x_axis": "step",
            "show_raw": True,
        }
        self._plots: list[LinePlot] = []
        self._shape: tuple[int, int, int] | None = None
        self.page = 0
        """Which page of plots is shown (0 unless the plots do not all fit)."""
        self.cursor_x: float | None = None
        """The cursor's x in every plot (None: no cursor)."""
        self._source: RunSource | None = None

    def _groups_of(self, tags: list[str]) -> list[tuple[str, tuple[str, ...]]]:
        if self.tool is None:
            return plot_groups(tags)
        from dltui.logs.plots import log_plot_groups

        return log_plot_groups(tags, self.tool)

    def _labels_of(self, tags: tuple[str, ...]) -> list[str]:
        if self.tool is None:
            return series_labels(tags)
        from dltui.logs.plots import log_series_labels

        return log_series_labels(tags)

    def compose(self) -> ComposeResult:
        """A plot per group (the loss plot, until the run's tags are known)."""
        yield from self._make_plots()

    def _make_plots(self) -> list[LinePlot]:
        self._plots = [self._make_plot(title, tags) for title, tags in self.groups]
        self._shape = None
        return list(self._plots)

    def _make_plot(self, title: str, tags: tuple[str, ...]) -> LinePlot:
        plot = LinePlot(
            title,
            tags=tags,
            labels=self._labels_of(tags),
            id=f"plot-{_slug(title)}",
            smoothing=self.options["smoothing"],
        )
        plot.log_y = self.options["log_y"]
        plot.x_axis = self.options["x_axis"]
        plot.show_raw = self.options["show_raw"]
        plot.cursor_x = self.cursor_x
        return plot

    def on_mount(self) -> None:
        """Lay the plots out for the pane's size."""
        self._layout()

    def on_resize(self) -> None:
        """More room, more plots side by side (and fewer pages)."""
        self._layout()

    @property
    def pages(self) -> int:
        """How many pages the plots take at the pane's size (1: all shown)."""
        per_page = self._shape[2] if self._shape else len(self._plots)
        return max(1, -(-len(self._plots) // max(1, per_page)))

    def _layout(self) -> None:
        width, height = self.content_size
        if not width or not height:
            return
        shape = grid_shape(len(self._plots), width, height)
        columns, rows, per_page = shape
        self.page = min(self.page, -(-len(self._plots) // per_page) - 1)
        first = self.page * per_page
        shown = self._plots[first : first + per_page]
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = rows
        spare = columns * rows - len(shown)
        for plot in self._plots:
            on_page = plot in shown
            if plot.display != on_page:
                plot.display = on_page
        for index, plot in enumerate(shown):
            # The last plot takes the empty cells of its row rather than leave a hole.
            span = 1 + spare if index == len(shown) - 1 and spare < columns else 1
            if plot.styles.column_span != span:
                plot.styles.column_span = span
        if shape != self._shape:
            self._shape = shape
            self.post_message(self.PagesChanged(self.pages, self.page))
        self._update_title()

    @dataclass
    class PagesChanged(Message):
        """The number of pages or the page shown changed (the footer's `p` key follows)."""

        pages: int
        page: int

        def can_replace(self, message: Message) -> bool:
            """Only the newest page count matters."""
            return isinstance(message, CurvesPane.PagesChanged)

    def _update_title(self) -> None:
        pages = self.pages
        title = "Curves" if pages == 1 else f"Curves {self.page + 1}/{pages} · p: more"
        if self.border_title != title:
            self.border_title = title

    def next_page(self) -> None:
        """Show the next page of plots (wrapping round to the first)."""
        if self.pages > 1:
            self.page = (self.page + 1) % self.pages
            self._shape = None
            self._layout()

    def _rebuild(self) -> None:
        """Plots for the new groups: those already shown stay (with their caches), the
        others are taken away or added, in display order."""
        existing = {plot.id: plot for plot in self._plots}
        wanted: list[LinePlot] = []
        for title, tags in self.groups:
            plot = existing.pop(f"plot-{_slug(title)}", None)
            if plot is not None and plot.tags == tags:
                wanted.append(plot)
                continue
            if plot is not None:
                existing[plot.id or ""] = plot  # same title, other tags: replaced below
            wanted.append(self._make_plot(title, tags))
        with self.app.batch_update():
            for plot in existing.values():
                plot.remove()
            for index, plot in enumerate(wanted):
                if plot.parent is None:
                    after = wanted[index - 1] if index else None
                    if after is None:
                        self.mount(plot, before=0) if self.children else self.mount(plot)
                    else:
                        self.mount(plot, after=after)
        self._plots = wanted
        self._shape = None
        self.call_after_refresh(self._layout)
        if self._source is not None:
            self.call_after_refresh(self._feed, self._source, None)

    @property
    def plots(self) -> list[LinePlot]:
        """Every plot, in display order (on every page)."""
        # Kept by hand rather than queried: the plots are fed ten times a second.
        return list(self._plots)

    @property
    def shown_plots(self) -> list[LinePlot]:
        """The plots on the page shown."""
        return [plot for plot in self._plots if plot.display]

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Add plots for new tags, then let each plot reload its own tags if they changed."""
        self._source = source
        if changes is None or changes.new_tags or changes.reset:
            groups = self._groups_of(source.tags())
            if groups != self.groups:
                self.groups = groups
                self._rebuild()
                return
        self._feed(source, changes)

    def _feed(self, source: RunSource, changes: RunChanges | None) -> None:
        for plot in self._plots:
            plot.update_from(source, changes)

    def set_options(
        self, *, smoothing: float, log_y: bool, x_axis: XAxis, show_raw: bool = True
    ) -> None:
        """Smoothing weight, log scale, x axis and raw lines for every plot."""
        if x_axis != self.options["x_axis"] and self.cursor_x is not None:
            self._carry_cursor(self.options["x_axis"], x_axis)
        self.options = {
            "smoothing": smoothing,
            "log_y": log_y,
            "x_axis": x_axis,
            "show_raw": show_raw,
        }
        for plot in self._plots:
            plot.smoothing = smoothing
            plot.log_y = log_y
            plot.x_axis = x_axis
            plot.show_raw = show_raw
            plot.cursor_x = self.cursor_x

    # -- the cursor -----------------------------------------------------------------------

    def x_extent(self) -> tuple[float, float] | None:
        """The x range the plots on the page span together."""
        extents = [e for plot in self.shown_plots if (e := plot.x_extent()) is not None]
        if not extents:
            return None
        return min(lo for lo, _ in extents), max(hi for _, hi in extents)

    def move_cursor(self, cells: int) -> None:
        """Move the cursor by ``cells`` character columns of the widest plot shown.

        The first move puts it on the newest point; it stops at either end.
        """
        extent = self.x_extent()
        if extent is None:
            return
        lo, hi = extent
        if self.cursor_x is None:
            self.set_cursor(hi)
            return
        columns = max((plot.size.width for plot in self.shown_plots), default=40)
        step = (hi - lo) / max(1, columns - 8)  # less the y labels: one column of curve
        self.set_cursor(min(hi, max(lo, self.cursor_x + cells * step)))

    def set_cursor(self, x: float | None) -> None:
        """Put the cursor at ``x`` in every plot (None: take it away)."""
        self.cursor_x = x
        for plot in self._plots:
            plot.cursor_x = x

    def _carry_cursor(self, old_axis: str, new_axis: str) -> None:
        """Keep the cursor on the same point when the x axis changes (step -> epoch)."""
        cursor = self.cursor_x
        self.cursor_x = None
        if cursor is None:
            return
        for plot in self.shown_plots:
            for series in plot.series:
                old, new = _axis_values(series, old_axis), _axis_values(series, new_axis)
                if old is None or new is None or not len(old):
                    continue
                if old_axis == "time":
                    cursor += plot.time_origin_of(series)
                index = int(np.searchsorted(old, cursor, side="right")) - 1
                value = float(new[min(max(index, 0), len(new) - 1)])
                if new_axis == "time":
                    value -= plot.time_origin_of(series)
                self.cursor_x = value if np.isfinite(value) else None
                return


def _axis_values(series: PlotSeries, axis: str) -> np.ndarray | None:
    values = {"step": series.step, "epoch": series.epoch, "time": series.time}[axis]
    return None if values is None else np.asarray(values, dtype=np.float64)


def _slug(title: str) -> str:
    from dltui.logs.plots import plot_slug

    return plot_slug(title)


PANE_IDS = (
    "curves",
    "overview",
    "stopping",
    "gradients",
    "system",
    "output",
    "samples",
    "confusion",
)
"""The run view's panes, in tab (and number-key) order."""


def make_pane(pane_id: str, source: RunSource | None = None) -> Widget:
    """The body widget of the run view's pane ``pane_id`` (for the run ``source`` reads)."""
    from dltui.tui.sources import tool_of_source

    tool = tool_of_source(source) if source is not None else None
    if pane_id == "curves":
        tags = source.tags() if source is not None else None
        return CurvesPane(tags=tags, tool=tool, id="pane-curves", classes="pane")
    if tool is not None:
        from dltui.tui.widgets.log_panes import log_pane

        return log_pane(pane_id, tool, id=f"pane-{pane_id}", classes="pane")
    from dltui.tui import widgets

    kinds: dict[str, type[Widget]] = {
        "gradients": widgets.GradNormPane,
        "stopping": widgets.EarlyStoppingPane,
        "overview": widgets.OverviewPane,
        "system": widgets.SystemPane,
        "output": widgets.OutputLog,
        "samples": widgets.SamplePane,
        "confusion": widgets.ConfusionPane,
    }
    return kinds[pane_id](id=f"pane-{pane_id}", classes="pane")


if TYPE_CHECKING:
    # mypy checks here that every pane of the run view is a RunPane.
    from dltui.tui import widgets as _widgets

    _PANES: tuple[type[RunPane], ...] = (
        CurvesPane,
        _widgets.GradNormPane,
        _widgets.EarlyStoppingPane,
        _widgets.OverviewPane,
        _widgets.SystemPane,
        _widgets.OutputLog,
        _widgets.SamplePane,
        _widgets.ConfusionPane,
        _widgets.LinePlot,
    )
