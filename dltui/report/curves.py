"""Which curves `dltui plot` draws, and each as a short array ready for plotext.

By default a run gets its loss chart (train and validation; a GAN's generator and
discriminator losses) and a chart of the metric it monitors (train and
validation). ``--tag`` names tags or shell patterns instead; tags that differ only
by split (``train/accuracy``, ``val/accuracy``) share a chart. Several runs are
overlaid on each chart. Every series is smoothed over all its points (when asked)
and then min/max-decimated to the chart's width, so spikes survive and plotext
sees a few hundred points whatever the run's length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dltui import run_format as rf
from dltui.bounded import loads_toml, read_text_limited
from dltui.report.charts import Line
from dltui.report.listing import format_value
from dltui.report.select import LoadedRun, full_name, match_tags
from dltui.runs.series import Series
from dltui.safe_text import printable
from dltui.series.decimate import minmax_decimate
from dltui.series.smoothing import ema_debiased

LOSS_TAGS = (rf.TRAIN_LOSS, rf.VAL_LOSS)
GAN_LOSS_TAGS = (rf.tag("train", rf.G_LOSS), rf.tag("train", rf.D_LOSS))


@dataclass(frozen=True)
class Chart:
    """One chart to draw: its title and the tags overlaid on it."""

    title: str
    tags: tuple[str, ...]


def monitor_of(run: LoadedRun) -> str | None:
    """The tag a run's early stopping watches: from its events, else its frozen experiment."""
    event = run.reader.latest("early_stopping")
    if event is not None and isinstance(event.get("monitor"), str):
        return _tag(event["monitor"])
    path = Path(run.info.path) / rf.EXPERIMENT
    if not path.is_file():
        return None
    try:
        table = loads_toml(read_text_limited(path), source=str(path))
    except (OSError, ValueError):
        return None
    stopping = table.get("early_stopping")
    if isinstance(stopping, dict):
        monitor = stopping.get("monitor", rf.VAL_LOSS)
        return _tag(monitor) if isinstance(monitor, str) else None
    return None


def _tag(monitor: str) -> str:
    """A monitor as its tag (``val_loss`` -> ``val/loss``)."""
    if "/" in monitor:
        return monitor
    # The schema (pydantic, ~0.3 s to import) only for the spelling that needs it.
    from dltui.spec.early_stopping import metric_tag

    return metric_tag(monitor)


def default_charts(runs: Sequence[LoadedRun]) -> list[Chart]:
    """The loss chart(s), then the monitored metric's (or the first metric's) chart."""
    present = tags_present(runs)
    charts: list[Chart] = []
    if set(present) & set(GAN_LOSS_TAGS):
        charts.append(Chart("GAN losses", GAN_LOSS_TAGS))
    if set(present) & set(LOSS_TAGS):
        charts.append(Chart("Loss", LOSS_TAGS))
    monitors = {monitor for monitor in map(monitor_of, runs) if monitor}
    metric = _metric_name(monitors, present)
    if metric is not None:
        title = metric
        if len(monitors) == 1 and metric_name(next(iter(monitors))) == metric:
            title = f"{metric} (monitored: {next(iter(monitors))})"
        charts.append(Chart(title, (rf.tag("train", metric), rf.tag("val", metric))))
    tools = [run.info.source for run in runs if run.info.source]
    if not charts and present and tools:
        # Other tools' tags follow their own conventions: every tag, its splits together.
        from dltui.logs.plots import log_plot_groups

        charts += [Chart(title, tags) for title, tags in log_plot_groups(present, tools[0])]
    elif not charts and present:
        charts.append(Chart(present[0], (present[0],)))
    return charts


def metric_name(tag: str) -> str:
    """``val/accuracy`` -> ``accuracy``; a tag without a split is its own name."""
    name = tag.partition("/")[2]
    return name if rf.split_of(tag) is not None and name else tag


def _metric_name(monitors: set[str], present: list[str]) -> str | None:
    """The metric to chart: the monitored one, else the first of train or val.

    Losses (at either resolution) have their own chart; a per-epoch twin
    (``train/d_loss_epoch``) and a GAN's scores are not metrics.
    """
    tags = set(present)
    for monitor in sorted(monitors):
        if monitor in tags and rf.is_metric(monitor):
            return metric_name(monitor)
    for tag in present:
        if (
            rf.split_of(tag) in ("train", "val")
            and metric_name(tag) != tag
            and rf.is_metric(tag)
            and not rf.is_epoch_value(tag, tags)
        ):
            return metric_name(tag)
    return None


def requested_charts(
    patterns: Sequence[str], runs: Sequence[LoadedRun]
) -> tuple[list[Chart], list[str]]:
    """Charts of the tags matching ``patterns``; also the patterns that matched nothing."""
    chosen, unmatched = match_tags(patterns, tags_present(runs))
    groups: dict[str, list[str]] = {}
    for tag in chosen:
        groups.setdefault(metric_name(tag), []).append(tag)
    return [Chart(name, tuple(tags)) for name, tags in groups.items()], unmatched


def tags_present(runs: Sequence[LoadedRun]) -> list[str]:
    """Every tag with points in any of the runs, in order of first appearance."""
    present: list[str] = []
    for run in runs:
        present += [tag for tag in run.reader.tags() if tag not in present]
    return present


@dataclass(frozen=True)
class Axis:
    """How x is measured: ``step``, ``epoch`` or ``time`` (seconds since the run began)."""

    name: str
    scale: float = 1.0
    """Divisor of time in seconds (60 for minutes, 3600 for hours)."""

    @property
    def label(self) -> str:
        """The x axis's label."""
        if self.name != "time":
            return self.name
        unit = {1.0: "s", 60.0: "min", 3600.0: "h"}.get(self.scale, "s")
        return f"time since start ({unit})"


def chart_lines(
    chart: Chart,
    runs: Sequence[LoadedRun],
    *,
    x_axis: str,
    smoothing: float,
    columns: int,
) -> tuple[list[Line], Axis]:
    """The chart's lines, decimated to ``columns`` buckets over one shared x range."""
    raw: list[tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64], float | None]] = []
    from dltui.logs.tag_match import own_tag

    # Each run's own spelling of each tag (another tool's ``Loss/train`` for ``train/loss``).
    run_tags = [[own_tag(tag, run.reader.tags()) for tag in chart.tags] for run in runs]
    with_points = {
        i
        for run, tags in zip(runs, run_tags, strict=True)
        for i, own in enumerate(tags)
        if own is not None and len(run.reader.series(own))
    }
    several_tags = len(with_points) > 1
    for run, owns in zip(runs, run_tags, strict=True):
        for tag in owns:
            if tag is None:
                continue
            series = run.reader.series(tag)
            if not len(series):
                continue
            x = _x_values(run, series, x_axis)
            y = np.asarray(series.value, dtype=np.float64)
            if smoothing > 0:
                y = ema_debiased(y, smoothing)
            label = _label(run, tag, several_runs=len(runs) > 1, several_tags=several_tags)
            raw.append((label, x, y, _last_finite(series.value)))
    axis = Axis(x_axis)
    if x_axis == "time":
        span = max((float(np.nanmax(x)) for _, x, _, _ in raw if np.isfinite(x).any()), default=0)
        axis = Axis("time", 3600.0 if span > 7200 else 60.0 if span > 120 else 1.0)
    finite = [x[np.isfinite(x)] for _, x, _, _ in raw]
    finite = [x for x in finite if x.size]
    if not finite:
        return [], axis
    x_range = (min(float(x.min()) for x in finite), max(float(x.max()) for x in finite))
    lines = []
    for label, x, y, last in raw:
        shown = (x_range[0] / axis.scale, x_range[1] / axis.scale)
        dx, dy = minmax_decimate(x / axis.scale, y, columns, shown)
        if dx.size:
            note = f"last {format_value(last)}" if last is not None else ""
            lines.append(Line(label, dx, dy, note))
    return lines, axis


def _x_values(run: LoadedRun, series: Series, x_axis: str) -> npt.NDArray[np.float64]:
    if x_axis == "epoch":
        return np.asarray(series.epoch, dtype=np.float64)
    if x_axis == "time":
        start = run.info.created
        times = np.asarray(series.time, dtype=np.float64)
        if start is None or not math.isfinite(start):
            start = float(np.nanmin(times)) if times.size else 0.0
        return times - start
    return np.asarray(series.step, dtype=np.float64)


def _label(run: LoadedRun, tag: str, *, several_runs: bool, several_tags: bool) -> str:
    tag_text = printable(tag, keep_newlines=False)
    if not several_runs:
        return tag_text
    name = printable(run.label, keep_newlines=False)
    return f"{name} {tag_text}" if several_tags else name


def _last_finite(values: npt.NDArray[np.float64]) -> float | None:
    finite = np.flatnonzero(np.isfinite(values))
    return float(values[finite[-1]]) if finite.size else None


def run_title(run: LoadedRun) -> str:
    """``experiment/run-id`` of a run, printable."""
    return printable(full_name(run.info), keep_newlines=False)
