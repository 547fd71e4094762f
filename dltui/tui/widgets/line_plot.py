"""LinePlot: named series over step, epoch or time, smoothed, with the raw series faint behind.

Rendering is dltui's own braille canvas (:mod:`dltui.tui.plotting`), not plotext:
measured on this machine (``bench/bench_plot.py``), plotext takes tens of
milliseconds per redraw at a few thousand points and keeps global state that is
not thread-safe, while min/max decimation to the pane's pixel width plus a numpy
rasteriser stays near 10 ms at 1,000,000 points. The laid-out frame is cached and
rebuilt only when the data, the size, the theme or a toggle changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_number
from dltui.tui.plotting.canvas import LineStyle
from dltui.tui.plotting.figure import Frame, Trace, render_frame
from dltui.tui.plotting.growing import Followed, GrowingArray
from dltui.tui.plotting.series import (
    SERIES_COLORS,
    X_AXES,
    PlotSeries,
    XAxis,
    assign_colors,
)
from dltui.tui.plotting.smoothing import MAX_WEIGHT, StreamingEma
from dltui.tui.widgets.changes import affects

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


_PATTERNS = (LineStyle.SOLID, LineStyle.DASHED, LineStyle.DOTTED, LineStyle.DASH_DOT)
"""Line patterns that tell series apart without colour (NO_COLOR)."""


class LinePlot(Widget):
    """A plot of one or more series with smoothing, log scale and a choice of x axis.

    Give it data with :meth:`set_series`, or name ``tags`` and call
    :meth:`update_from` with a run reader after each poll.
    """

    DEFAULT_CSS = """
    LinePlot {
        height: 1fr;
        min-height: 5;
        min-width: 20;
        color: $foreground;
    }
    LinePlot > .lineplot--axis { color: $foreground-muted; }
    LinePlot > .lineplot--title { color: $foreground; text-style: bold; }
    LinePlot > .lineplot--message { color: $foreground-muted; text-style: italic; }
    LinePlot > .lineplot--cursor { color: $accent; text-style: bold; }
    """

    COMPONENT_CLASSES = {
        "lineplot--axis",
        "lineplot--title",
        "lineplot--message",
        "lineplot--cursor",
    }

    smoothing: reactive[float] = reactive(0.6)
    """EMA weight, 0 (raw) to 0.99."""
    log_y: reactive[bool] = reactive(False)
    """Log-scale y axis (values <= 0 are left out)."""
    x_axis: reactive[XAxis] = reactive("step")
    """What x is: ``step``, ``epoch`` or ``time`` since the run started."""
    title: reactive[str] = reactive("")
    """Shown top left, with the legend on the right."""
    empty_message: reactive[str] = reactive("no data yet")
    """Shown while no series has a point to draw."""
    cursor_x: reactive[float | None] = reactive(None)
    """Where the cursor stands, in x units: the legend then shows each series' value there
    (the last point at or before it). None: no cursor, the legend shows the latest values."""
    show_raw: reactive[bool] = reactive(True)
    """Draw the unsmoothed series, faint, behind each smoothed line."""

    def __init__(
        self,
        title: str = "",
        *,
        tags: Sequence[str] = (),
        labels: Sequence[str] = (),
        empty_message: str | None = None,
        smoothing: float = 0.6,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A plot titled ``title``; ``tags`` are what :meth:`update_from` reads, shown in
        the legend as ``labels`` (default: the tags; a label also fixes the colour)."""
        super().__init__(name=name, id=id, classes=classes)
        self.tags = tuple(tags)
        self.labels = tuple(labels) if labels else self.tags
        if len(self.labels) != len(self.tags):
            raise ValueError(f"{len(self.labels)} labels for {len(self.tags)} tags")
        self._series: tuple[PlotSeries, ...] = ()
        self._version = 0
        self._frame_key: tuple[Any, ...] | None = None
        self._strips: list[Strip] = []
        self._blank = Strip.blank(0)
        self._styles_key: tuple[Any, ...] | None = None
        self._styles: dict[str, Style] = {}
        self._smoothed: dict[str, _SmoothedCache] = {}
        self._xs: dict[str, _XCache] = {}
        self.set_reactive(LinePlot.title, title)
        self.set_reactive(LinePlot.smoothing, _clamp_smoothing(smoothing))
        if empty_message is None and tags:
            empty_message = f"no {tags[0]} yet"
        if empty_message is not None:
            self.set_reactive(LinePlot.empty_message, empty_message)

    # ------------------------------------------------------------------ data in

    @property
    def series(self) -> tuple[PlotSeries, ...]:
        """The series shown now."""
        return self._series

    def set_series(self, series: Sequence[PlotSeries]) -> None:
        """Show ``series`` (replacing what was shown) and redraw."""
        self._series = tuple(series)
        self._version += 1
        keys = {_cache_key(s) for s in self._series}
        self._smoothed = {k: v for k, v in self._smoothed.items() if k in keys}
        self._xs = {k: v for k, v in self._xs.items() if k.rsplit("\0", 1)[0] in keys}
        self.refresh()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload this plot's ``tags`` from a run if they changed."""
        if not self.tags or not affects(changes, tags=self.tags, meta=True):
            return
        origin = _run_start(source)
        series = [
            PlotSeries.from_series(
                label, source.series(tag), key=label, time_origin=origin, tag=tag
            )
            for tag, label in zip(self.tags, self.labels, strict=True)
        ]
        self.set_series([s for s in series if len(s.y)])

    # ---------------------------------------------------------------- reactives

    def validate_smoothing(self, value: float) -> float:
        """Keep the weight in the range the EMA accepts."""
        return _clamp_smoothing(value)

    def watch_smoothing(self) -> None:
        """Redraw with the new weight."""
        self.refresh()

    def watch_log_y(self) -> None:
        """Redraw on the new scale."""
        self.refresh()

    def watch_x_axis(self) -> None:
        """Redraw against the new x."""
        self.refresh()

    def watch_title(self) -> None:
        """Redraw the title row."""
        self.refresh()

    def watch_empty_message(self) -> None:
        """Redraw the message."""
        self.refresh()

    def watch_cursor_x(self) -> None:
        """Redraw the cursor and the legend's values."""
        self.refresh()

    def watch_show_raw(self) -> None:
        """Redraw with or without the raw lines."""
        self.refresh()

    def cycle_x_axis(self) -> XAxis:
        """Switch to the next x axis (step → epoch → time) and return it."""
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        return self.x_axis

    # ---------------------------------------------------------------- rendering

    def build_frame(self, width: int, height: int) -> Frame:
        """Lay the plot out in ``width`` x ``height`` cells (uncoloured)."""
        axis = self.x_axis
        origin = self._time_origin()
        no_color = self.app.no_color if self.is_attached else False
        traces = []
        cursor = self.cursor_x
        missing = 0
        for index, s in enumerate(self._series):
            prepared = self._x(s, axis, origin)
            if prepared is None:
                # Kept as an empty trace so trace i is still series i (colours, legend).
                missing += 1
                traces.append(Trace(printable(s.label, keep_newlines=False), _EMPTY, _EMPTY))
                continue
            x, is_sorted = prepared
            if len(x) and math.isnan(x[0]) and math.isnan(x[-1]) and not np.isfinite(x).any():
                # Points, but none on this axis (a CSV log has no times, a TensorBoard
                # log no epochs): said as for a series without the axis at all.
                missing += 1
                traces.append(Trace(printable(s.label, keep_newlines=False), _EMPTY, _EMPTY))
                continue
            y = np.asarray(s.y, dtype=np.float64)
            smoothed = self._smooth(s) if self.smoothing > 0 and s.smooth else None
            style = _PATTERNS[index % len(_PATTERNS)] if no_color else LineStyle.SOLID
            traces.append(
                Trace(
                    printable(s.label, keep_newlines=False),
                    x,
                    y,
                    smoothed,
                    style,
                    sorted=is_sorted,
                    readout=_readout(x, y, is_sorted, cursor),
                    raw=self.show_raw,
                    raw_style=LineStyle.DOTTED if no_color else LineStyle.SOLID,
                )
            )
        message = self.empty_message
        if self._series and missing == len(self._series):
            message = f"no {axis} recorded for these series"
        return render_frame(
            traces,
            width,
            height,
            # Titles and labels may be tag names from a run's files: shown, never obeyed.
            title=printable(self.title, keep_newlines=False),
            log_y=self.log_y,
            x_kind=axis,
            empty_message=printable(message, keep_newlines=False),
            cursor_x=cursor,
        )

    def x_extent(self) -> tuple[float, float] | None:
        """The smallest and largest x of the series on the current axis (None if none)."""
        origin = self._time_origin()
        lo, hi = math.inf, -math.inf
        for s in self._series:
            prepared = self._x(s, self.x_axis, origin)
            if prepared is None or not len(prepared[0]):
                continue
            x, is_sorted = prepared
            if is_sorted:
                low, high = float(x[0]), float(x[-1])
            else:
                low, high = float(np.fmin.reduce(x)), float(np.fmax.reduce(x))
            if math.isfinite(low) and math.isfinite(high):
                lo, hi = min(lo, low), max(hi, high)
        return (lo, hi) if math.isfinite(lo) else None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Rebuild the cached frame if anything it depends on changed, then render ``crop``."""
        # Checked once per render rather than per line: ``rich_style`` walks the styles of
        # every ancestor, and a plot has dozens of lines repainted ten times a second.
        self._validate_frame()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One row of the cached frame (built first if it was invalidated)."""
        if self._frame_key is None:
            self._validate_frame()
        return self._strips[y] if 0 <= y < len(self._strips) else self._blank

    def _validate_frame(self) -> None:
        width, height = self.size
        rich_style = self.rich_style
        key = (
            self._version,
            width,
            height,
            self.smoothing,
            self.log_y,
            self.x_axis,
            self.title,
            self.empty_message,
            self.cursor_x,
            self.show_raw,
            self.app.theme,
            self.app.no_color,
            rich_style,
        )
        if key != self._frame_key:
            self._strips = self._to_strips(self.build_frame(width, height), width)
            self._frame_key = key
            self._blank = Strip.blank(width, rich_style)

    def _to_strips(self, frame: Frame, width: int) -> list[Strip]:
        styles = self._role_styles()
        base = self.rich_style
        strips = []
        for row in frame.rows:
            segments = [Segment(text, styles.get(role, base)) for text, role in row if text]
            strips.append(Strip(segments, width))
        return strips

    def _role_styles(self) -> dict[str, Style]:
        base = self.rich_style
        key = (
            self.app.theme,
            self.app.no_color,
            base,
            tuple((s.color, s.color_key) for s in self._series),
        )
        if key != self._styles_key:
            self._styles = self._build_role_styles(base)
            self._styles_key = key
        return self._styles

    def _build_role_styles(self, base: Style) -> dict[str, Style]:
        variables = self.app.theme_variables
        background = self.background_colors[1]
        colors = assign_colors(s.color_key for s in self._series)
        styles = {
            "axis": base + self.get_component_rich_style("lineplot--axis", partial=True),
            "title": base + self.get_component_rich_style("lineplot--title", partial=True),
            "message": base + self.get_component_rich_style("lineplot--message", partial=True),
            "cursor": base + self.get_component_rich_style("lineplot--cursor", partial=True),
            "plot": base,
        }
        for index, s in enumerate(self._series):
            name = s.color or SERIES_COLORS[colors[s.color_key]]
            raw = variables.get(name) or variables.get("primary") or "ansi_blue"
            color = background + Color.parse(raw)  # theme colours may carry alpha
            # Well towards the background: the raw line is context, the smoothed one the trend.
            faint = color.blend(background, 0.7)
            styles[f"line:{index}"] = base + Style(color=color.rich_color)
            styles[f"legend:{index}"] = base + Style(color=color.rich_color, bold=True)
            styles[f"raw:{index}"] = base + Style(color=faint.rich_color)
        return styles

    def time_origin_of(self, series: PlotSeries) -> float:
        """The unix time that ``series``' time axis counts from in this plot."""
        return self._time_origin() if series.time_origin is None else series.time_origin

    def _time_origin(self) -> float:
        starts = [
            float(np.fmin.reduce(s.time))
            for s in self._series
            if s.time is not None and len(s.time) and s.time_origin is None
        ]
        finite = [t for t in starts if math.isfinite(t)]
        return min(finite) if finite else 0.0

    def _smooth(self, s: PlotSeries) -> npt.NDArray[np.float64]:
        """The smoothed values: smoothed once per series, then only the points appended."""
        # A million points take tens of milliseconds to smooth; a live run appends a few
        # per poll, so the average is carried on from where it stopped.
        key = _cache_key(s)
        cached = self._smoothed.get(key)
        if (
            cached is None
            or cached.ema.weight != self.smoothing
            or not cached.followed.continued_by(s.y)
        ):
            cached = self._smoothed[key] = _SmoothedCache(StreamingEma(self.smoothing))
        if len(s.y) > cached.followed.count:
            cached.ema.extend(s.y[cached.followed.count :])
            cached.followed.take(s.y)
        return cached.ema.values

    def _x(
        self, s: PlotSeries, axis: XAxis, origin: float
    ) -> tuple[npt.NDArray[np.float64], bool] | None:
        """x as float64 and whether it is sorted, converted once and then only as it grows."""
        # A million int64 steps to float64, and the sortedness scan, cost milliseconds
        # each: too much to repeat on every poll, resize or toggle.
        raw = {"step": s.step, "epoch": s.epoch, "time": s.time}[axis]
        if raw is None:
            return None
        shift = (origin if s.time_origin is None else s.time_origin) if axis == "time" else 0.0
        key = f"{_cache_key(s)}\0{axis}"
        cached = self._xs.get(key)
        if cached is None or cached.shift != shift or not cached.followed.continued_by(s.y):
            cached = self._xs[key] = _XCache(shift)
        done = cached.followed.count
        if len(raw) > done:
            last = cached.x.values[-1] if len(cached.x) else None
            new = cached.x.reserve(len(raw) - done)
            new[:] = raw[done:]  # converted to float64 as it is copied in
            if shift:
                new -= shift
            if cached.sorted and new.size:
                joined = last is None or bool(new[0] >= last)
                cached.sorted = joined and bool(np.all(new[1:] >= new[:-1]))
            cached.followed.take(s.y)
        return cached.x.values, cached.sorted


@dataclass
class _SmoothedCache:
    """One series' smoothed values, and how much of the series they cover."""

    ema: StreamingEma
    followed: Followed = field(default_factory=Followed)


@dataclass
class _XCache:
    """One series' x on one axis as float64 (time less ``shift``), and whether it is sorted."""

    shift: float
    x: GrowingArray = field(default_factory=GrowingArray)
    sorted: bool = True
    followed: Followed = field(default_factory=Followed)


_EMPTY = np.empty(0)


def _readout(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], is_sorted: bool, cursor: float | None
) -> str:
    """The legend's value: the latest, or the last one at or before the cursor's x."""
    if not len(y):
        return "—"
    if cursor is None:
        return format_number(float(y[-1]), 4)
    if is_sorted:
        index = int(np.searchsorted(x, cursor, side="right")) - 1
    else:
        before = np.flatnonzero(x <= cursor)
        index = int(before[np.argmax(x[before])]) if before.size else -1
    return format_number(float(y[index]), 4) if index >= 0 else "—"


def _cache_key(s: PlotSeries) -> str:
    return f"{s.color_key}\0{s.label}"


def _clamp_smoothing(value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return min(max(float(value), 0.0), min(0.99, MAX_WEIGHT))


def _run_start(source: RunSource) -> float | None:
    created = source.meta.get("created")
    return float(created) if isinstance(created, int | float) else None
