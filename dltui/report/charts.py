"""Line charts as text, drawn by plotext (6.x: the figure API).

The lines handed in are already decimated to the chart's width, so plotext draws
a few hundred points whatever the run's length: its own drawing costs ~15 ms for
1,000 points and grows linearly from there. plotext aborts the whole process on a
NaN, so lines are split at every non-finite value into finite segments (a gap
stays a gap). The legend is written above the canvas, not inside it, where
plotext's box would hide the curves' upper right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dltui.report.terminal import paint

PALETTE = (33, 208, 40, 197, 135, 44, 178, 250)
"""256-colour indices of successive lines: blue, orange, green, pink, purple, cyan,
yellow, grey — distinguishable on dark and light terminals alike."""

PLAIN_MARKERS = ("⣿", "•", "+", "x", "o", "*", "#", "~")
"""What successive lines are drawn with when there is no colour (``NO_COLOR``, a pipe)."""

MIN_WIDTH, MIN_HEIGHT = 30, 8


@dataclass(frozen=True)
class Line:
    """One curve: ``x``/``y`` ready to draw (decimated; may hold NaN gaps), its legend."""

    label: str
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    note: str = ""
    """Shown after the label in the legend (the last value, say)."""


def canvas_columns(width: int) -> int:
    """About how many columns of a ``width``-wide chart are canvas (the rest: y ticks)."""
    return max(10, width - 10)


def render_chart(
    title: str,
    lines: Sequence[Line],
    *,
    x_label: str,
    width: int,
    height: int,
    colour: bool,
) -> str:
    """A chart ``width`` columns by ``height`` lines (legend included) as text.

    Without ``colour`` the text holds no escape codes and lines differ by marker.
    Raises ValueError when plotext cannot draw the values (a range past float64).
    """
    import plotext

    _check_spans(title, lines)
    width, height = max(MIN_WIDTH, width), max(MIN_HEIGHT, height)
    legend = _legend(lines, width, colour)
    figure = plotext.figure  # plotext 6 keeps one global figure: set everything each time
    figure.clear()
    figure.theme("simple" if colour else "colorless")
    figure.plot_size(width, max(MIN_HEIGHT - 2, height - len(legend)))
    for index, line in enumerate(lines):
        if colour:
            marker = plotext.marker("braille", pixel=PALETTE[index % len(PALETTE)])
        else:
            symbol = PLAIN_MARKERS[index % len(PLAIN_MARKERS)]
            marker = plotext.marker("braille" if symbol == "⣿" else symbol)
        for xs, ys in finite_segments(line.x, line.y):
            figure.draw(figure.signal(xs.tolist(), ys.tolist(), marker=marker).lines())
    figure.title(title)
    figure.label(x_label, axis="x")
    try:
        text = figure.build().string(colorless=not colour)
    except Exception as error:  # plotext's own failures carry no common base class
        raise ValueError(f"plotext could not draw {title!r}: {error}") from None
    rows = text.rstrip("\n").split("\n")
    rows = [row.rstrip() for row in rows]
    return "\n".join([rows[0], *legend, *rows[1:]]) + "\n"


def _check_spans(title: str, lines: Sequence[Line]) -> None:
    """ValueError when the values span more than a float holds (plotext cannot scale them)."""
    for axis in ("x", "y"):
        values = [getattr(line, axis) for line in lines]
        finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.empty(0)
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
            with np.errstate(over="ignore"):
                span = np.float64(high) - np.float64(low)
            if not np.isfinite(span):
                raise ValueError(
                    f"cannot draw {title!r}: its {axis} values span {low:.3g} to {high:.3g}, "
                    "more than a float holds"
                )


def finite_segments(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """The runs of consecutive points where both ``x`` and ``y`` are finite."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    if ok.all():
        return [(x, y)]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    return [
        (x[start:end], y[start:end]) for start, end in zip(edges[::2], edges[1::2], strict=True)
    ]


def _legend(lines: Sequence[Line], width: int, colour: bool) -> list[str]:
    """Legend entries, as many per row as fit ``width``."""
    rows: list[str] = []
    row, used = "", 0
    for index, line in enumerate(lines):
        if colour:
            key = paint("━━", PALETTE[index % len(PALETTE)])
        else:
            key = PLAIN_MARKERS[index % len(PLAIN_MARKERS)] * 2
        text = f"{line.label} {line.note}".rstrip()
        size = 3 + len(text)  # the key, a space, the text
        if used and used + 2 + size > width:
            rows.append(row)
            row, used = "", 0
        gap = "  " if used else " "
        row += f"{gap}{key} {text}"
        used += len(gap) + size
    if row:
        rows.append(row)
    return rows
