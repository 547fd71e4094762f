"""The bodies of the run view's panes: the curves (laid out here) and the widgets' panes.

`CurvesPane` decides which plots a run needs — the loss, then one plot per
metric with its train and validation series, then the learning rate — adding
plots as new tags appear. The other panes are the widgets' own, each fed with
``update_from(reader, changes)``.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget

from dltui.tui.widgets.line_plot import LinePlot, PlotSeries

LOSS_TAGS = ("train/loss", "val/loss")
GAN_LOSS_TAGS = ("train/g_loss", "train/d_loss")
_NOT_METRICS = {"loss", "loss_epoch", "g_loss", "d_loss"}


def plot_groups(tags: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(title, tags) of each plot a run with ``tags`` gets, in display order."""
    present = set(tags)
    groups: list[tuple[str, tuple[str, ...]]] = []
    if present & set(GAN_LOSS_TAGS):
        groups.append(("GAN losses", GAN_LOSS_TAGS))
    if present & set(LOSS_TAGS) or not groups:
        groups.append(("Loss", LOSS_TAGS))
    metrics: list[str] = []
    for tag in tags:
        split, _, name = tag.partition("/")
        if split in ("train", "val") and name and name not in _NOT_METRICS and name not in metrics:
            metrics.append(name)
    for name in sorted(metrics):
        groups.append((name, (f"train/{name}", f"val/{name}")))
    if "lr" in present:
        groups.append(("Learning rate", ("lr",)))
    return groups


class CurvesPane(VerticalScroll):
    """Loss and metric plots of one run, two per row when there is room."""

    DEFAULT_CSS = """
    CurvesPane {
        height: 1fr;
        & > Horizontal { height: 1fr; min-height: 9; }
        & LinePlot { width: 1fr; min-height: 9; padding-right: 1; }
    }
    """

    def __init__(
        self, *, tags: list[str] | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """``tags``: the run's tags so far, so the first layout has the right plots."""
        super().__init__(id=id, classes=classes)
        self.groups: list[tuple[str, tuple[str, ...]]] = plot_groups(tags or [])
        self.options: dict[str, Any] = {"smoothing": 0.6, "log_y": False, "x_axis": "step"}
        self._columns = 1
        self._plots: list[LinePlot] = []

    def compose(self) -> ComposeResult:
        """A plot per group (the loss plot, until the run's tags are known)."""
        yield from self._rows()

    def _rows(self) -> list[Widget]:
        plots = [
            LinePlot(title, tags=tags, id=f"plot-{_slug(title)}", **self._plot_kwargs())
            for title, tags in self.groups
        ]
        for plot in plots:
            plot.log_y = self.options["log_y"]
            plot.x_axis = self.options["x_axis"]
        self._plots = plots
        rows: list[Widget] = []
        for start in range(0, len(plots), self._columns):
            rows.append(Horizontal(*plots[start : start + self._columns]))
        return rows

    def _plot_kwargs(self) -> dict[str, Any]:
        return {"smoothing": self.options["smoothing"]}

    def on_resize(self) -> None:
        """Two plots per row from 100 columns up."""
        columns = 2 if self.size.width >= 100 and len(self.groups) > 1 else 1
        if columns != self._columns:
            self._columns = columns
            self._rebuild()

    def _rebuild(self) -> None:
        reader = getattr(self, "_reader", None)
        with self.app.batch_update():
            self.remove_children()
            self.mount_all(self._rows())
        if reader is not None:
            self.call_after_refresh(self._feed, reader, None)

    @property
    def plots(self) -> list[LinePlot]:
        """Every plot, in display order."""
        # Kept by hand rather than queried: the plots are fed ten times a second.
        return list(self._plots)

    def update_from(self, reader: Any, changes: Any = None) -> None:
        """Add plots for new tags, then let each plot reload its own tags if they changed."""
        self._reader = reader
        if (
            changes is None
            or getattr(changes, "new_tags", None)
            or getattr(changes, "reset", False)
        ):
            groups = plot_groups(reader.tags())
            if groups != self.groups:
                self.groups = groups
                self._columns = 2 if self.size.width >= 100 and len(groups) > 1 else 1
                self._rebuild()
                return
        self._feed(reader, changes)

    def _feed(self, reader: Any, changes: Any) -> None:
        for plot in self.plots:
            plot.update_from(reader, changes)

    def set_options(self, *, smoothing: float, log_y: bool, x_axis: str) -> None:
        """Smoothing weight, log scale and x axis for every plot."""
        self.options = {"smoothing": smoothing, "log_y": log_y, "x_axis": x_axis}
        for plot in self.plots:
            plot.smoothing = smoothing
            plot.log_y = log_y
            plot.x_axis = x_axis  # type: ignore[assignment]


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower())


def make_plot(widget_id: str) -> LinePlot:
    """A plot for the compare view (filled by `plot_runs`)."""
    return LinePlot("", id=widget_id, empty_message="none of these runs has this metric yet")


def plot_runs(
    plot: LinePlot,
    readers: list[Any],
    labels: list[str],
    tag: str,
    *,
    smoothing: float,
    log_y: bool,
    x_axis: str,
) -> None:
    """Overlay ``tag`` of every reader, coloured by run (stable across metrics)."""
    series = []
    for reader, label in zip(readers, labels, strict=True):
        data = reader.series(tag)
        if len(data):
            created = (reader.meta or {}).get("created")
            series.append(
                PlotSeries.from_series(
                    label,
                    data,
                    key=str(reader.run_dir),
                    time_origin=float(created) if isinstance(created, int | float) else None,
                )
            )
    plot.smoothing = smoothing
    plot.log_y = log_y
    plot.x_axis = x_axis  # type: ignore[assignment]
    plot.title = tag
    plot.set_series(series)


def make_pane(pane_id: str, reader: Any = None) -> Widget:
    """The body widget of the run view's pane ``pane_id`` (for the run ``reader`` reads)."""
    if pane_id == "curves":
        tags = reader.tags() if reader is not None else None
        return CurvesPane(tags=tags, id="pane-curves", classes="pane")
    from dltui.tui import widgets

    kinds = {
        "gradients": "GradNormPane",
        "stopping": "EarlyStoppingPane",
        "overview": "OverviewPane",
        "system": "SystemPane",
        "output": "OutputLog",
        "samples": "SamplePane",
    }
    widget_class = getattr(widgets, kinds[pane_id])
    widget: Widget = widget_class(id=f"pane-{pane_id}", classes="pane")
    return widget
