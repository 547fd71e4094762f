"""SystemPane: CPU, RAM and each GPU's utilisation, memory, temperature and power as sparklines."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from rich.text import Text

from dltui.run_format import (
    GPU_QUANTITIES,
    SYSTEM_CPU,
    SYSTEM_PREFIX,
    SYSTEM_RAM,
    SYSTEM_RSS,
    gpu_tag,
)
from dltui.tui.plotting.axis import format_bytes, format_duration
from dltui.tui.plotting.sparkline import sparkline
from dltui.tui.widgets.changes import affects
from dltui.tui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


_GPU_TAG = re.compile(
    rf"^{re.escape(SYSTEM_PREFIX)}gpu(\d+)/({'|'.join(map(re.escape, GPU_QUANTITIES))})$"
)
_GPU_METRICS: tuple[tuple[str, str, Callable[[float], str], tuple[float, float] | None], ...] = (
    ("util", "util", lambda v: f"{v:.0f}%", (0.0, 100.0)),
    ("mem_used", "mem", format_bytes, None),
    ("temp", "temp", lambda v: f"{v:.0f}°C", None),
    ("power", "power", lambda v: f"{v:.0f} W", None),
)


class SystemPane(TextPane):
    """Host and GPU load over the run, from the ``system/...`` tags.

    Data is a mapping ``tag -> (time, value)`` arrays; :meth:`update_from` reads it
    from a run source. Every sparkline spans the same time range, the run's.
    """

    DEFAULT_CSS = """
    SystemPane {
        height: auto;
        min-height: 2;
        padding: 0 1;
    }
    SystemPane > .system--label { color: $foreground-muted; }
    SystemPane > .system--spark { color: $secondary; }
    SystemPane > .system--value { color: $foreground; text-style: bold; }
    SystemPane > .system--muted { color: $foreground-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {"system--label", "system--spark", "system--value", "system--muted"}

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane."""
        super().__init__(name=name, id=id, classes=classes)
        self._data: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
        self._fingerprint: tuple[Any, ...] | None = None

    def show(self, data: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]]) -> None:
        """Show ``tag -> (unix times, values)`` for ``system/...`` tags.

        Showing what is already shown does nothing (no repaint).
        """
        converted = {
            tag: (np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64))
            for tag, (t, v) in data.items()
        }
        # Append-only series: length, last time and last value identify what is shown.
        fingerprint = tuple(
            (tag, t.size, t[-1:].tobytes(), v[-1:].tobytes()) for tag, (t, v) in converted.items()
        )
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        self._data = converted
        self.content_changed()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload from a run when a ``system/`` tag grew."""
        if not affects(changes, prefixes=(SYSTEM_PREFIX,)):
            return
        data = {}
        for tag in source.tags():
            if tag.startswith(SYSTEM_PREFIX):
                series = source.series(tag)
                data[tag] = (series.time, series.value)
        self.show(data)

    def build_text(self, width: int) -> Text:
        """One line per measure: label, sparkline, latest value."""
        return self.describe(width)

    def describe(self, width: int) -> Text:
        """The pane's content for ``width`` cells."""
        style = self.get_component_rich_style
        label_style, spark_style, value_style = (
            style("system--label"),
            style("system--spark"),
            style("system--value"),
        )
        if not self._data:
            return Text("no system metrics recorded", style=style("system--muted"))
        starts = [t[0] for t, _ in self._data.values() if t.size]
        ends = [t[-1] for t, _ in self._data.values() if t.size]
        span = (min(starts), max(ends)) if starts else (0.0, 0.0)
        spark_width = max(4, width - 11 - 12)
        text = Text(no_wrap=True, overflow="ellipsis")
        label_width = 10

        def line(
            label: str, tag: str, fmt: Callable[[float], str], bounds: tuple[float, float] | None
        ) -> None:
            times, values = self._data[tag]
            text.append(f"{label:<{label_width}} ", label_style)
            text.append(_spark_on_time(times, values, span, spark_width, bounds), spark_style)
            latest = values[-1] if values.size else float("nan")
            text.append(f" {fmt(float(latest)) if np.isfinite(latest) else '—':>10}\n", value_style)

        # The trainer samples the machine's CPU and memory (psutil's system-wide figures)
        # and its own process's resident memory: the labels say which is which.
        if SYSTEM_CPU in self._data:
            line("host CPU", SYSTEM_CPU, lambda v: f"{v:.0f}%", (0.0, 100.0))
        if SYSTEM_RAM in self._data:
            line("host RAM", SYSTEM_RAM, format_bytes, None)
        if SYSTEM_RSS in self._data:
            line("run RAM", SYSTEM_RSS, format_bytes, None)
        gpus = sorted({int(m.group(1)) for tag in self._data if (m := _GPU_TAG.match(tag))})
        if not gpus:
            text.append("no GPU recorded\n", style("system--muted"))
        for gpu in gpus:
            for metric, label, fmt, bounds in _GPU_METRICS:
                tag = gpu_tag(gpu, metric)
                if tag in self._data:
                    line(f"GPU{gpu} {label}", tag, fmt, bounds)
        notes = []
        if span[1] > span[0]:
            notes.append(f"over {format_duration(span[1] - span[0])}")
        if any(tag in self._data for tag in (SYSTEM_CPU, SYSTEM_RAM)):
            notes.append("host: the whole machine")
        if SYSTEM_RSS in self._data:
            notes.append("run: the training process")
        if gpus:
            notes.append("GPU: the whole device")
        if notes:
            text.rstrip()
            text.append("\n" + _flow(notes, width), label_style)
        text.rstrip()
        return text


def _flow(notes: list[str], width: int) -> str:
    """``notes`` joined by `` · ``, on as many lines as ``width`` needs (none cut)."""
    lines, current = [], ""
    for note in notes:
        joined = f"{current} · {note}" if current else note
        if current and len(joined) > width:
            lines.append(current)
            current = note
        else:
            current = joined
    lines.append(current)
    return "\n".join(lines)


def _spark_on_time(
    times: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    span: tuple[float, float],
    width: int,
    bounds: tuple[float, float] | None,
) -> str:
    """A sparkline whose characters are equal slices of the run's time span, so rows align."""
    lo, hi = span
    if times.size == 0:
        return " " * width
    if hi <= lo:
        return sparkline(values[-1:], 1).rjust(width)
    # Place each point in its time column; a column's peak is what shows.
    columns = np.clip(((times - lo) / (hi - lo) * (width - 1)).astype(np.intp), 0, width - 1)
    grid = np.full(width, np.nan)
    finite = np.isfinite(values)
    np.fmax.at(grid, columns[finite], values[finite])
    # Fewer samples than columns (a short run on a wide pane): a sample holds until the
    # next, so the line is not a comb of bars with gaps that read as missing data.
    filled = np.isfinite(grid)
    if filled.any():
        last = np.maximum.accumulate(np.where(filled, np.arange(width), -1))
        held = last >= 0
        grid[held] = grid[last[held]]
    low, high = bounds if bounds is not None else (None, None)
    return sparkline(grid, width, low, high)
