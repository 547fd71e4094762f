"""Lay out a line plot as text: title and legend, y labels, braille canvas, x labels.

The result is a :class:`Frame`: rows of ``(text, role)`` runs. Roles name what a
run is (``axis``, ``title``, ``line:2``, ``raw:2``, ``legend:2``, ``message``), and
the widget maps them to theme colours, so this module stays pure numpy + text and
is testable and benchmarkable without a terminal.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from dltui.tui.plotting.axis import (
    format_duration,
    format_epoch,
    format_number,
    format_ticks,
    log_ticks,
    nice_ticks,
    time_ticks,
)
from dltui.tui.plotting.canvas import BrailleCanvas, LineStyle
from dltui.tui.plotting.decimate import minmax_decimate_many

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
    readout: str | None = None
    """A value shown after the label in the legend (the latest, or the one at the cursor)."""
    raw: bool = True
    """Draw ``y`` when there is a smoothed line too (faint, behind it)."""
    raw_style: LineStyle = LineStyle.SOLID
    """How the faint raw line is drawn (dotted without colour, so it reads as secondary)."""


@dataclass
class Frame:
    """A laid-out plot: ``rows`` of runs, each row exactly ``width`` cells wide."""

    width: int
    height: int
    rows: list[list[Run]] = field(default_factory=list)
    cursor_column: int | None = None
    """The cell column the cursor is drawn in (None: no cursor shown)."""

    @property
    def text(self) -> str:
        """The plain text of the frame (for tests and logs)."""
        return "\n".join("".join(text for text, _ in row) for row in self.rows)


RAW_NOTE = "(faint: raw)"
"""The legend's note that a faint line is the unsmoothed series behind a smoothed one."""


def render_frame(
    traces: Sequence[Trace],
    width: int,
    height: int,
    *,
    title: str = "",
    log_y: bool = False,
    x_kind: XKind = "step",
    empty_message: str = "no data yet",
    cursor_x: float | None = None,
    equal_aspect: bool = False,
    log_x: bool = False,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> Frame:
    """Lay out ``traces`` in ``width`` x ``height`` cells.

    Each trace is min/max-decimated to the plot's pixel width first, so the cost
    does not depend on the series' length beyond one vectorised pass. With
    ``log_y``, values <= 0 are left out (log of them is undefined) rather than
    clamped. When no trace has a drawable point, the frame shows
    ``empty_message`` centred under the title. When every trace holds a single
    value (a test metric), the values are written as numbers: one dot per series
    says nothing. ``cursor_x`` (in x units) draws a vertical cursor there and
    writes its x under the axis. ``equal_aspect`` gives x and y the same scale
    per dot (a ring of points stays round). ``log_x`` spaces x by its logarithm (values
    <= 0 are left out), its ticks at powers of ten and between them. ``x_ticks`` names
    the x positions to label (``(0, "tanh"), (1, "relu")``) instead of numbers; the x
    range then spans them, half a place beyond each end.
    """
    width, height = max(1, width), max(1, height)
    if log_x:
        traces = [dataclasses.replace(t, x=_log10(t.x)) for t in traces]
    frame = Frame(width, height)
    counts = [_finite_points(trace) for trace in traces]
    if counts and max(counts) == 1:
        return _values_frame(frame, traces, title, x_kind)
    show_title = height >= 3
    if show_title:
        # Leave the plot at least two rows (and the x labels one) however long the legend.
        frame.rows.extend(_legend_rows(title, traces, width, max(1, height - 3)))
    plot_rows = height - len(frame.rows) - 1  # the last row holds the x labels
    if plot_rows < 1:
        plot_rows, x_label_row = height - len(frame.rows), False
    else:
        x_label_row = True

    x_lo, x_hi = _x_range(traces)
    if x_ticks and math.isfinite(x_lo):
        places = [x for x, _ in x_ticks]
        x_lo, x_hi = min(places) - 0.5, max(places) + 0.5
    columns = max(2, 2 * width)
    drawn: list[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64], bool]] = []
    if math.isfinite(x_lo):
        for index, trace in enumerate(traces):
            has_smooth = trace.smoothed is not None
            wanted = [
                (values, is_raw)
                for values, is_raw in ((trace.y, has_smooth), (trace.smoothed, False))
                if values is not None and not (is_raw and not trace.raw)
            ]
            if trace.scatter:
                pairs = [(trace.x, values) for values, _ in wanted]  # a cloud has no x order
            else:
                # The raw series and its smoothing share x: sort and bucket it once.
                pairs = minmax_decimate_many(
                    trace.x,
                    [values for values, _ in wanted],
                    columns,
                    (x_lo, x_hi),
                    assume_sorted=trace.sorted,
                )
            for (dx, dy), (_, is_raw) in zip(pairs, wanted, strict=True):
                if log_y:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        dy = np.where(dy > 0, np.log10(np.where(dy > 0, dy, 1.0)), np.nan)
                drawn.append((index, dx, dy, is_raw))

    y_lo, y_hi, flat = _y_range([dy for _, _, dy, _ in drawn])
    if not math.isfinite(y_lo):
        _empty(frame, plot_rows + (1 if x_label_row else 0), empty_message)
        return frame
    if flat:
        # Equal up to float rounding (a constant learning rate, smoothed or not): one
        # value, one dot row, the middle one. Mapped as they are, values a few ulps apart
        # land on either side of the boundary between two dot rows and zigzag.
        middle = (y_lo + y_hi) / 2
        drawn = [(i, dx, np.where(np.isfinite(dy), middle, dy), r) for i, dx, dy, r in drawn]
        pixels = 4 * plot_rows - 1
        per_pixel = (y_hi - y_lo) / pixels
        y_hi = middle + (pixels // 2) * per_pixel
        y_lo = y_hi - pixels * per_pixel

    y_ticks, y_labels = _y_ticks(y_lo, y_hi, plot_rows, log_y)
    label_width = max((len(s) for s in y_labels), default=0)
    if width - label_width - 1 < 4:
        label_width, y_ticks, y_labels = 0, [], []
    plot_width = width - label_width - (1 if label_width else 0)

    canvas = BrailleCanvas(plot_width, plot_rows)
    if equal_aspect:
        x_lo, x_hi, y_lo, y_hi = _equal_aspect(x_lo, x_hi, y_lo, y_hi, canvas)
        y_ticks, y_labels = _y_ticks(y_lo, y_hi, plot_rows, log_y)
    px_scale = (canvas.pixel_width - 1) / (x_hi - x_lo) if x_hi > x_lo else 0.0
    py_scale = (canvas.pixel_height - 1) / (y_hi - y_lo)
    roles: list[str] = []
    cursor_pixel: int | None = None
    if cursor_x is not None and math.isfinite(cursor_x) and x_lo <= cursor_x <= x_hi:
        cursor_pixel = round((cursor_x - x_lo) * px_scale) if px_scale else canvas.pixel_width // 2
        layer = canvas.new_layer()
        roles.append("cursor")
        dots = np.arange(0, canvas.pixel_height, 2, dtype=np.float64)
        canvas.points(layer, np.full(dots.shape, float(cursor_pixel)), dots)
    # Raw series first, so every smoothed line is drawn above every faint one.
    for want_raw in (True, False):
        for index, dx, dy, is_raw in drawn:
            if is_raw != want_raw:
                continue
            layer = canvas.new_layer()
            roles.append(f"{'raw' if is_raw else 'line'}:{index}")
            px = (dx - x_lo) * px_scale if px_scale else np.full(dx.shape, canvas.pixel_width / 2)
            py = (y_hi - dy) * py_scale
            trace = traces[index]
            if trace.scatter:
                canvas.points(layer, px, py)
            else:
                canvas.line(layer, px, py, trace.raw_style if is_raw else trace.style)
    composed = canvas.compose()

    tick_rows = {
        min(plot_rows - 1, round((y_hi - t) * py_scale) // 4): label
        for t, label in zip(y_ticks, y_labels, strict=True)
    }
    canvas_rows = _canvas_runs(composed.rows, composed.owner, roles)
    offset = label_width + (1 if label_width else 0)
    for r in range(plot_rows):
        row: list[Run] = []
        if label_width:
            label = tick_rows.get(r)
            row.append((label.rjust(label_width) if label else " " * label_width, "axis"))
            row.append(("┤" if label else "│", "axis"))
        row.extend(canvas_rows[r])
        frame.rows.append(row)
    cursor_cell = None if cursor_pixel is None else offset + cursor_pixel // 2
    frame.cursor_column = cursor_cell
    if x_label_row:
        cursor = None
        if cursor_cell is not None and cursor_x is not None:
            cursor = (cursor_cell, format_x(cursor_x, x_kind))
        frame.rows.append(
            _x_label_row(
                x_lo,
                x_hi,
                x_kind,
                label_width,
                plot_width,
                canvas.pixel_width,
                width,
                cursor,
                log_x=log_x,
                named=x_ticks,
            )
        )
    return frame


def format_x(value: float, kind: XKind) -> str:
    """An x position as the axis counts it: ``1,280`` steps, epoch ``3.5``, ``2m30s``."""
    if not math.isfinite(value):
        return "?"
    if kind == "step":
        return f"{round(value):,}"
    if kind == "time":
        return format_duration(value)
    if kind == "epoch":
        return format_epoch(value)
    return format_number(value, 4)


def _log_axis_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Ticks for a log axis: powers of ten, or 1-2-5 steps when fewer than two fall inside."""
    ticks = log_ticks(lo, hi, count)
    if len(ticks) >= 2 or not (0 < lo < hi):
        return ticks
    found = [
        m * 10.0**e
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        for m in (1, 2, 5)
        if lo <= m * 10.0**e <= hi
    ]
    stride = max(1, math.ceil(len(found) / max(1, count)))
    return found[::stride] or ticks


def _log10(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """log10 of ``x``, NaN where it is not positive (left out of the plot)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), np.nan)


def _finite_points(trace: Trace) -> int:
    if trace.y.size > 1:
        return 2  # enough to tell: no need to scan a long series
    return int(np.isfinite(trace.y).sum())


def _values_frame(frame: Frame, traces: Sequence[Trace], title: str, x_kind: XKind) -> Frame:
    """Every series' single value as a number (with where it was recorded), rows centred."""
    width, height = frame.width, frame.height
    head: list[list[Run]] = [[(_fit(title, width).ljust(width), "title")]] if title else []
    if height < 3:
        head = []
    label_width = min(max(len(t.label) for t in traces), max(4, width // 2))
    rows: list[list[Run]] = []
    for index, trace in enumerate(traces):
        finite = np.flatnonzero(np.isfinite(trace.y))
        value = format_number(float(trace.y[finite[0]]), 4) if finite.size else "—"
        where = ""
        if finite.size and x_kind != "value" and np.isfinite(trace.x[finite[0]]):
            where = f"  at {x_kind} {format_x(float(trace.x[finite[0]]), x_kind)}"
        marker = trace.style.marker
        room = width - len(marker) - 1 - 2 - len(value)
        label = _fit(trace.label, max(1, min(label_width, room))).ljust(min(label_width, room))
        pieces: list[Run] = [(marker, f"legend:{index}"), (" " + label, "title")]
        pieces.append(("  " + value, f"legend:{index}"))
        used = sum(len(text) for text, _ in pieces)
        if used > width:  # too narrow for the label beside the value: the value wins
            pieces = [(marker, f"legend:{index}"), (" " + value, f"legend:{index}")]
            used = len(marker) + 1 + len(value)
        if used + len(where) <= width:
            pieces.append((where, "axis"))
            used += len(where)
        rows.append([*pieces, (" " * max(0, width - used), "plot")])
    blank: list[Run] = [(" " * width, "plot")]
    gap = max(0, (height - len(head) - len(rows)) // 2)
    frame.rows = (head + [blank] * gap + rows + [blank] * height)[:height]
    return frame


def _fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, shortened with an ellipsis (labels, not numbers)."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…" if width > 0 else ""


def _legend_rows(title: str, traces: Sequence[Trace], width: int, max_rows: int) -> list[list[Run]]:
    """The title and the legend: on one row when they fit, else the legend wraps below.

    An entry is never split and its value never cut: a label is shortened first. A
    note says what the faint lines are when a raw series is drawn behind its smoothing.
    """
    entries: list[list[Run]] = []
    for index, trace in enumerate(traces):
        marker = trace.style.marker
        value = f" {trace.readout}" if trace.readout else ""
        room = width - len(marker) - 1 - len(value)
        label = _fit(trace.label, max(1, room))
        entry: list[Run] = [(marker, f"legend:{index}"), (f" {label}", "title")]
        if value:
            entry.append((value, f"legend:{index}"))
        entries.append(entry)
    note: list[Run] = []
    if any(trace.smoothed is not None and trace.raw and not trace.scatter for trace in traces):
        note = [(RAW_NOTE, "axis")]
    widths = [sum(len(text) for text, _ in entry) for entry in entries]
    gap = 2
    title_text = _fit(title, width)
    note_width = len(RAW_NOTE) + gap if note else 0
    one_row = len(title_text) + sum(w + gap for w in widths) + note_width
    if one_row <= width or not entries:
        legend: list[Run] = []
        for entry in [*entries, note] if note and one_row <= width else entries:
            legend += [(" " * gap, "title"), *entry]
        row: list[Run] = [(title_text, "title")] if title_text else []
        pad = width - len(title_text) - sum(len(text) for text, _ in legend)
        return [[*row, (" " * max(0, pad), "title"), *legend]]
    # The title (with the note at the right, when it fits there), then the entries.
    first: list[Run] = [(title_text, "title")]
    used = len(title_text)
    if note and used + note_width <= width:
        first += [(" " * (width - used - len(RAW_NOTE)), "title"), *note]
        note = []
    else:
        first.append((" " * (width - used), "title"))
    rows: list[list[Run]] = [first] if title_text or len(first) > 2 else []
    if note:
        entries.append(note)
        widths.append(len(RAW_NOTE))
    current: list[Run] = []
    used = 0
    for entry, entry_width in zip(entries, widths, strict=True):
        need = entry_width + (gap if current else 0)
        if current and used + need > width:
            rows.append([*current, (" " * (width - used), "title")])
            current, used = [], 0
            need = entry_width
        if current:
            current.append((" " * gap, "title"))
        current.extend(entry)
        used += need
    if current:
        rows.append([*current, (" " * max(0, width - used), "title")])
    return rows[: max(1, max_rows)]


def _equal_aspect(
    x_lo: float, x_hi: float, y_lo: float, y_hi: float, canvas: BrailleCanvas
) -> tuple[float, float, float, float]:
    """Widen the x or the y range so one dot spans the same distance along both.

    A braille dot is about as wide as it is tall (a cell is two dots wide, four tall,
    and twice as tall as wide), so equal units per dot keep a circle round.
    """
    x_span = (x_hi - x_lo) * 1.08 or 1.0
    y_span = (y_hi - y_lo) * 1.08 or 1.0
    per_dot = max(x_span / canvas.pixel_width, y_span / canvas.pixel_height)
    x_mid, y_mid = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    x_half = per_dot * canvas.pixel_width / 2
    y_half = per_dot * canvas.pixel_height / 2
    return x_mid - x_half, x_mid + x_half, y_mid - y_half, y_mid + y_half


def _x_range(traces: Sequence[Trace]) -> tuple[float, float]:
    lo, hi = math.inf, -math.inf
    for trace in traces:
        if trace.sorted and trace.x.size and math.isfinite(trace.x[0] + trace.x[-1]):
            lo, hi = min(lo, float(trace.x[0])), max(hi, float(trace.x[-1]))
        elif trace.x.size:
            # fmin/fmax skip NaN without copying the array.
            lo = min(lo, float(np.fmin.reduce(trace.x)))
            hi = max(hi, float(np.fmax.reduce(trace.x)))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan, math.nan
    return lo, hi


_FLAT = 1e-9
"""Relative spread below which a series' values count as equal (float rounding)."""


def _y_range(ys: Sequence[npt.NDArray[np.float64]]) -> tuple[float, float, bool]:
    """The padded y range of ``ys``, and whether their values are all equal up to rounding."""
    lo, hi = math.inf, -math.inf
    for y in ys:
        # fmin/fmax skip NaN; an infinity only survives if there is nothing finite.
        if y.size:
            low, high = float(np.fmin.reduce(y)), float(np.fmax.reduce(y))
            if not (math.isfinite(low) and math.isfinite(high)):
                finite = y[np.isfinite(y)]
                if not finite.size:
                    continue
                low, high = float(finite.min()), float(finite.max())
            lo, hi = min(lo, low), max(hi, high)
    if not math.isfinite(lo):
        return math.nan, math.nan, False
    if hi - lo <= _FLAT * max(abs(lo), abs(hi)):
        # Flat, up to rounding (a constant learning rate smoothed in float64): centre it
        # rather than magnify the last bits of the floats into a zigzag.
        mid = (lo + hi) / 2
        pad = abs(mid) * 0.1 or 1.0
        return mid - pad, mid + pad, True
    pad = (hi - lo) * 0.04  # keep the extremes off the frame's edge
    return lo - pad, hi + pad, False


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
    cursor: tuple[int, str] | None = None,
    *,
    log_x: bool = False,
    named: Sequence[tuple[float, str]] | None = None,
) -> list[Run]:
    """Tick labels under the axis, the axis' name at the right; the cursor's x, if any,
    replaces the tick labels it would overlap."""
    cells = [" "] * width
    taken: tuple[int, int] | None = None
    if cursor is not None:
        column, text = cursor
        text = text[:width]
        start = min(max(0, column - len(text) // 2), width - len(text))
        taken = (start, start + len(text))
    if label_width:
        cells[label_width] = "└"
    name = "" if kind == "value" else kind
    room = plot_width - len(name) - 1
    count = max(2, min(8, room // 8))
    if named:
        ticks = [x for x, _ in named]
        labels = [label for _, label in named]
    elif log_x:
        values = _log_axis_ticks(10.0**lo, 10.0**hi, count)
        ticks = [math.log10(v) for v in values]
        labels = [format_number(v) for v in values]
    elif kind == "time":
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
        if taken is not None and start <= taken[1] and start + len(label) >= taken[0]:
            continue
        cells[start : start + len(label)] = label
        free_from = start + len(label) + 1
    clear_of_cursor = taken is None or width - len(name) > taken[1]
    if name and room >= 0 and width - len(name) >= free_from and clear_of_cursor:
        cells[width - len(name) :] = name
    if taken is None or cursor is None:
        return [("".join(cells), "axis")]
    start, end = taken
    return [
        ("".join(cells[:start]), "axis"),
        (cursor[1][: end - start], "cursor"),
        ("".join(cells[end:]), "axis"),
    ]


def _empty(frame: Frame, rows: int, message: str) -> None:
    middle = rows // 2
    for r in range(rows):
        if r == middle:
            text = message[: frame.width].center(frame.width)
            frame.rows.append([(text, "message")])
        else:
            frame.rows.append([(" " * frame.width, "plot")])
