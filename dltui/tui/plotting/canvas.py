"""A braille canvas: lines and points rasterised with numpy into 2x4-dot cells.

Each terminal cell holds one braille character, a 2-wide, 4-tall grid of dots, so
a ``w x h`` cell area is a ``2w x 4h`` pixel canvas. Everything drawn goes onto a
*layer* (one per series and style); :meth:`BrailleCanvas.compose` flattens the
layers into one character and one owning layer per cell, the last-drawn layer
with dots in a cell winning, so a smoothed line drawn last stays on top of its
faint raw series. No Textual here: the widget turns the result into segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

# Bit of the braille dot at (pixel column within cell, pixel row within cell).
_DOT_BITS = np.array([[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]], dtype=np.uint8)
_BRAILLE_BLANK = 0x2800


class LineStyle(Enum):
    """Dash patterns, so series stay apart without colour (NO_COLOR)."""

    SOLID = "solid"
    DASHED = "dashed"
    DOTTED = "dotted"
    DASH_DOT = "dash-dot"

    def keep(self, index: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which pixels along a line (numbered from its start) this pattern draws."""
        if self is LineStyle.DASHED:
            return (index // 4) % 2 == 0
        if self is LineStyle.DOTTED:
            return index % 3 == 0
        if self is LineStyle.DASH_DOT:
            phase = index % 9
            return (phase < 4) | (phase == 6)
        return np.ones(index.shape, dtype=bool)

    @property
    def marker(self) -> str:
        """A legend sample of the pattern."""
        return {"solid": "━━", "dashed": "╺╸", "dotted": "┅┅", "dash-dot": "━╸"}[self.value]


@dataclass(frozen=True)
class ComposedCanvas:
    """The flattened canvas: ``rows`` of text and, per cell, the owning layer (-1 = empty)."""

    rows: list[str]
    owner: npt.NDArray[np.int16]


class BrailleCanvas:
    """A ``width x height`` cell canvas (``2*width x 4*height`` pixels) built from layers.

    Pixel coordinates are floats with x growing right and y growing *down* from
    the top-left pixel; the caller maps data to pixels.
    """

    def __init__(self, width: int, height: int) -> None:
        """An empty canvas of ``width`` x ``height`` cells (each at least 1)."""
        self.width = max(1, int(width))
        self.height = max(1, int(height))
        self._layers: list[npt.NDArray[np.uint8]] = []

    @property
    def pixel_width(self) -> int:
        """Pixels across: two per cell."""
        return 2 * self.width

    @property
    def pixel_height(self) -> int:
        """Pixels down: four per cell."""
        return 4 * self.height

    def new_layer(self) -> int:
        """Start a layer on top of the others and return its index."""
        self._layers.append(np.zeros(self.width * self.height, dtype=np.uint8))
        return len(self._layers) - 1

    def line(
        self,
        layer: int,
        px: npt.ArrayLike,
        py: npt.ArrayLike,
        style: LineStyle = LineStyle.SOLID,
    ) -> None:
        """Draw a polyline through pixel points; a NaN coordinate breaks it into pieces.

        Isolated points (finite neighbours on neither side) are drawn as single dots.
        """
        x = np.asarray(px, dtype=np.float64)
        y = np.asarray(py, dtype=np.float64)
        if x.size == 0:
            return
        ok = np.isfinite(x) & np.isfinite(y)
        seg = ok[:-1] & ok[1:]
        x0, y0 = x[:-1][seg], y[:-1][seg]
        dx, dy = x[1:][seg] - x0, y[1:][seg] - y0
        # One sample per pixel along the longer direction: a connected line.
        steps = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.intp) + 1
        steps = np.minimum(steps, 4 * (self.pixel_width + self.pixel_height))
        total = int(steps.sum())
        if total:
            owner = np.repeat(np.arange(steps.size), steps)
            along = np.arange(total) - np.repeat(np.cumsum(steps) - steps, steps)
            t = along / np.maximum(steps - 1, 1)[owner]
            xs = x0[owner] + t * dx[owner]
            ys = y0[owner] + t * dy[owner]
            keep = style.keep(np.arange(total))
            self._set(layer, xs[keep], ys[keep])
        # Points that no segment touches.
        touched = np.zeros(x.size, dtype=bool)
        touched[:-1] |= seg
        touched[1:] |= seg
        lone = ok & ~touched
        if lone.any():
            self._set(layer, x[lone], y[lone])

    def points(self, layer: int, px: npt.ArrayLike, py: npt.ArrayLike) -> None:
        """Draw single dots at pixel points (non-finite ones are skipped)."""
        x = np.asarray(px, dtype=np.float64)
        y = np.asarray(py, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        self._set(layer, x[ok], y[ok])

    def _set(self, layer: int, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]) -> None:
        cx = np.rint(xs).astype(np.intp)
        cy = np.rint(ys).astype(np.intp)
        inside = (cx >= 0) & (cx < self.pixel_width) & (cy >= 0) & (cy < self.pixel_height)
        cx, cy = cx[inside], cy[inside]
        if cx.size == 0:
            return
        cell = (cy // 4) * self.width + (cx // 2)
        bits = _DOT_BITS[cx % 2, cy % 4]
        # bitwise_or.at is the one ufunc that handles repeated cells correctly.
        np.bitwise_or.at(self._layers[layer], cell, bits)

    def compose(self) -> ComposedCanvas:
        """Flatten the layers: in each cell, the top layer that has dots there wins."""
        size = self.width * self.height
        bits = np.zeros(size, dtype=np.uint8)
        owner = np.full(size, -1, dtype=np.int16)
        for index, layer in enumerate(self._layers):
            drawn = layer != 0
            bits[drawn] = layer[drawn]
            owner[drawn] = index
        codes = np.where(bits != 0, _BRAILLE_BLANK + bits.astype(np.uint32), ord(" "))
        text = codes.astype("<u4").tobytes().decode("utf-32-le")
        rows = [text[r * self.width : (r + 1) * self.width] for r in range(self.height)]
        return ComposedCanvas(rows=rows, owner=owner.reshape(self.height, self.width))
