"""Lay out a line plot as text: title and legend, y labels, braille canvas, x labels.

The result is a :class:`Frame`: rows of ``(text, role)`` runs. Roles name what a
run is (``axis``, ``title``, ``line:2``, ``raw:2``, ``legend:2``, ``message``), and
the widget maps them to theme colours, so this module stays pure numpy + text and
is testable and benchmarkable without a terminal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from dltui.tui.plotting.axis import (
    format_duration,
    format_number,
    format_ticks,
    log_ticks,
    nice_ticks,
    time_ticks,
)
from dltui.tui.plotting.canvas import BrailleCanvas, LineStyle
from dltui.tui.plotting.decimate import minmax_decimate

XKind = Literal["step", "epoch", "time", "value"]
Run = tuple[str, str]
"""A piece of a row: its text and its role."""


@dataclass(frozen=True)
class Trace:
    """One series ready to draw: x in axis units, raw y, and optionally its smoothed y."""

    label: str
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    smoothed: npt.NDArray[np.float64] | None = None
    style: LineStyle = LineStyle.SOLID
    scatter: bool = False
    """Draw the points as dots, unconnected (for samples, not curves)."""
    sorted: bool = False
    """``x`` is known to be non-decreasing (lets decimation skip its check)."""


@dataclass
class Frame:
    """A laid-out plot: ``rows`` of runs, each row exactly ``width`` cells wide."""

    width: int
    height: int
    rows: list[list[Run]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The plain text of the frame (for tests and logs)."""
        return "\n".join("".join(text for text, _ in row) for row in self.rows)


def render_frame(
    traces: Sequence[Trace],
    width: int,
    height: int,
    *,
    title: str = "",
    log_y: bool = False,
    x_kind: XKind = "step",
    empty_message: str = "no data yet",
) -> Frame:
    """Lay out ``traces`` in ``width`` x ``height`` cells.

    Each trace is min/max-decimated to the plot's pixel width first, so the cost
    does not depend on the series' length beyond one vectorised pass. With
    ``log_y``, values <= 0 are left out (log of them is undefined) rather than
    clamped. When no trace has a drawable point, the frame shows
    ``empty_message`` centred under the title.
    """
    width, height = max(1, width), max(1, height)
    frame = Frame(width, height)
    show_title = height >= 3
    if show_title:
        frame.rows.append(_title_row(title, traces, width))
    plot_rows = height - len(frame.rows) - 1  # the last row holds the x labels
    if plot_rows < 1:
        plot_rows, x_label_row = height - len(frame.rows), False
    else:
        x_label_row = True

    x_lo, x_hi = _x_range(traces)
    columns = max(2, 2 * width)
    drawn: list[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64], bool]] = []
    if math.isfinite(x_lo):
        for index, trace in enumerate(traces):
            for values, is_raw in ((trace.y, trace.smoothed is not None), (trace.smoothed, False)):
                if values is None:
                    continue
                if trace.scatter:
                    dx, dy = trace.x, values  # a cloud has no x order to decimate along
                else:
                    dx, dy = minmax_decimate(
                        trace.x, values, columns, (x_lo, x_hi), assume_sorted=trace.sorted
                    )
                if log_y:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        dy = np.where(dy > 0, np.log10(np.where(dy > 0, dy, 1.0)), np.nan)
                drawn.append((index, dx, dy, is_raw))

    y_lo, y_hi = _y_range([dy for _, _, dy, _ in drawn])
    if not math.isfinite(y_lo):
        _empty(frame, plot_rows + (1 if x_label_row else 0), empty_message)
        return frame

    y_ticks, y_labels = _y_ticks(y_lo, y_hi, plot_rows, log_y)
    label_width = max((len(s) for s in y_labels), default=0)
    if width - label_width - 1 < 4:
        label_width, y_ticks, y_labels = 0, [], []
    plot_width = width - label_width - (1 if label_width else 0)

    canvas = BrailleCanvas(plot_width, plot_rows)
    px_scale = (canvas.pixel_width - 1) / (x_hi - x_lo) if x_hi > x_lo else 0.0
    py_scale = (canvas.pixel_height - 1) / (y_hi - y_lo)
    roles: list[str] = []
    # Raw series first, so every smoothed line is drawn above every faint one.
    for want_raw in (True, False):
        for index, dx, dy, is_raw in drawn:
            if is_raw != want_raw:
                continue
            layer = canvas.new_layer()
            roles.append(f"{'raw' if is_raw else 'line'}:{index}")
            px = (dx - x_lo) * px_scale if px_scale else np.full(dx.shape, canvas.pixel_width / 2)
            py = (y_hi - dy) * py_scale
            if traces[index].scatter:
                canvas.points(layer, px, py)
            else:
                canvas.line(layer, px, py, LineStyle.SOLID if is_raw else traces[index].style)
    composed = canvas.compose()

    tick_rows = {
        min(plot_rows - 1, round((y_hi - t) * py_scale) // 4): label
        for t, label in zip(y_ticks, y_labels, strict=True)
    }
    canvas_rows = _canvas_runs(composed.rows, composed.owner, roles)
    for r in range(plot_rows):
        row: list[Run] = []
        if label_width:
            label = tick_rows.get(r)
            row.append((label.rjust(label_width) if label else " " * label_width, "axis"))
            row.append(("┤" if label else "│", "axis"))
        row.extend(canvas_rows[r])
        frame.rows.append(row)
    if x_label_row:
        frame.rows.append(
            _x_label_row(x_lo, x_hi, x_kind, label_width, plot_width, canvas.pixel_width, width)
        )
    return frame


def _title_row(title: str, traces: Sequence[Trace], width: int) -> list[Run]:
    runs: list[Run] = [(title[:width], "title")] if title else []
    used = len(runs[0][0]) if runs else 0
    legend: list[Run] = []
    for index, trace in enumerate(traces):
        marker, label = trace.style.marker, f" {trace.label}"
        room = width - used - 2 - len(marker)
        if room < 2:
            break
        label = label if len(label) <= room else label[: room - 1] + "…"
        legend += [("  ", "title"), (marker, f"legend:{index}"), (label, "title")]
        used += 2 + len(marker) + len(label)
    pad = width - used
    return [*runs, (" " * pad, "title"), *legend] if legend else [*runs, (" " * pad, "title")]


def _x_range(traces: Sequence[Trace]) -> tuple[float, float]:
    lo, hi = math.inf, -math.inf
    for trace in traces:
        if trace.x.size:
            # fmin/fmax skip NaN without copying the array.
            lo = min(lo, float(np.fmin.reduce(trace.x)))
            hi = max(hi, float(np.fmax.reduce(trace.x)))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan, math.nan
    return lo, hi


_FLAT = 1e-9
"""Relative spread below which a series' values count as equal (float rounding)."""


def _y_range(ys: Sequence[npt.NDArray[np.float64]]) -> tuple[float, float]:
    lo, hi = math.inf, -math.inf
    for y in ys:
        finite = y[np.isfinite(y)]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if not math.isfinite(lo):
        return math.nan, math.nan
    if hi - lo <= _FLAT * max(abs(lo), abs(hi)):
        # Flat, up to rounding (a constant learning rate smoothed in float64): centre it
        # rather than magnify the last bits of the floats into a zigzag.
        mid = (lo + hi) / 2
        pad = abs(mid) * 0.1 or 1.0
        return mid - pad, mid + pad
    pad = (hi - lo) * 0.04  # keep the extremes off the frame's edge
    return lo - pad, hi + pad


def _y_ticks(lo: float, hi: float, rows: int, log_y: bool) -> tuple[list[float], list[str]]:
    count = max(2, min(6, rows // 2 + 1))
    if log_y:
        values = log_ticks(10.0**lo, 10.0**hi, count)
        return [math.log10(v) for v in values], [format_number(v) for v in values]
    values = nice_ticks(lo, hi, count)
    return values, format_ticks(values)


def _canvas_runs(
    texts: Sequence[str], owner: npt.NDArray[np.int16], roles: list[str]
) -> list[list[Run]]:
    """Each canvas row cut into runs of cells drawn by the same layer, with its role."""
    # Where the owner changes, found for all rows in one pass: a plot is redrawn ten
    # times a second while a run is followed, and per-row numpy calls add up.
    changed_rows, changed_cols = np.nonzero(owner[:, 1:] != owner[:, :-1])
    per_row = np.split(changed_cols + 1, np.searchsorted(changed_rows, np.arange(1, len(texts))))
    rows: list[list[Run]] = []
    for text, cuts, owners in zip(texts, per_row, owner.tolist(), strict=True):
        bounds = [0, *cuts.tolist(), len(text)]
        runs: list[Run] = []
        for start, end in itertools.pairwise(bounds):
            who = owners[start]
            runs.append((text[start:end], roles[who] if who >= 0 else "plot"))
        rows.append(runs)
    return rows


def _x_label_row(
    lo: float,
    hi: float,
    kind: XKind,
    label_width: int,
    plot_width: int,
    pixel_width: int,
    width: int,
) -> list[Run]:
    cells = [" "] * width
    if label_width:
        cells[label_width] = "└"
    name = "" if kind == "value" else kind
    room = plot_width - len(name) - 1
    count = max(2, min(8, room // 8))
    if kind == "time":
        ticks = time_ticks(lo, hi, count)
        labels = [format_duration(t) for t in ticks]
    else:
        ticks = nice_ticks(lo, hi, count)
        if kind == "step":
            ticks = [t for t in ticks if t == int(t)]
        labels = format_ticks(ticks)
    offset = label_width + (1 if label_width else 0)
    free_from = offset
    for tick, label in zip(ticks, labels, strict=True):
        pixel = (tick - lo) / (hi - lo) * (pixel_width - 1) if hi > lo else pixel_width / 2
        start = offset + int(pixel) // 2 - len(label) // 2
        start = max(start, free_from)
        if start + len(label) > offset + room:
            continue
        cells[start : start + len(label)] = label
        free_from = start + len(label) + 1
    if name and room >= 0 and width - len(name) >= free_from:
        cells[width - len(name) :] = name
    return [("".join(cells), "axis")]


def _empty(frame: Frame, rows: int, message: str) -> None:
    middle = rows // 2
    for r in range(rows):
        if r == middle:
            text = message[: frame.width].center(frame.width)
            frame.rows.append([(text, "message")])
        else:
            frame.rows.append([(" " * frame.width, "plot")])
