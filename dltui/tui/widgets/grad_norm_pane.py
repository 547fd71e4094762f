"""GradNormPane: per-layer gradient norms as a heat strip, with vanishing/exploding flags.

Rows are layers (from ``grad_norm/<label>`` tags), columns are time buckets; a
cell's shade is the bucket's mean log10 norm. Flags are words, not only colour,
so they read on any terminal and with NO_COLOR.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from rich.style import Style
from rich.text import Text
from textual.color import Color

from dltui.run_format import GRAD_NORM_PREFIX, GRAD_NORM_TOTAL
from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_number
from dltui.tui.plotting.sparkline import sparkline
from dltui.tui.widgets.changes import affects
from dltui.tui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


VANISHING = 1e-7
"""A norm below this is vanishing: the layer has stopped learning."""
EXPLODING = 1e3
"""A norm above this is exploding."""
ORDERS = 3.0
"""A change by this many orders of magnitude vs the layer's earlier median is flagged."""
SHADES = " ░▒▓█"


@dataclass(frozen=True)
class LayerNorms:
    """One layer's gradient norms in step order."""

    label: str
    values: npt.NDArray[np.float64]


def classify(values: npt.ArrayLike) -> str | None:
    """``"vanishing"``, ``"exploding"``, ``"dropping"``, ``"jumping"``, ``"non-finite"`` or None.

    The latest finite-or-not value decides: below :data:`VANISHING` or above
    :data:`EXPLODING` in absolute terms, or :data:`ORDERS` orders of magnitude
    below/above the median of the earlier half of the series.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size == 0:
        return None
    latest = float(y[-1])
    if not math.isfinite(latest):
        return "non-finite"
    if latest < VANISHING:
        return "vanishing"
    if latest > EXPLODING:
        return "exploding"
    earlier = y[: max(1, y.size // 2)]
    earlier = earlier[np.isfinite(earlier) & (earlier > 0)]
    if y.size >= 4 and earlier.size:
        reference = float(np.median(earlier))
        change = math.log10(latest / reference) if latest > 0 else -math.inf
        if change <= -ORDERS:
            return "dropping"
        if change >= ORDERS:
            return "jumping"
    return None


def heat_levels(values: npt.ArrayLike, columns: int) -> npt.NDArray[np.float64]:
    """Mean log10 norm in each of ``columns`` equal index buckets (NaN where none).

    Non-positive and non-finite norms are left out of the mean.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size == 0 or columns < 1:
        return np.full(max(columns, 0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where((y > 0) & np.isfinite(y), np.log10(np.where(y > 0, y, 1.0)), np.nan)
    columns = min(columns, y.size)
    starts = np.linspace(0, y.size, columns, endpoint=False).astype(np.intp)
    valid = np.isfinite(logs)
    sums = np.add.reduceat(np.where(valid, logs, 0.0), starts)
    counts = np.add.reduceat(valid.astype(np.intp), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


class GradNormPane(TextPane):
    """Per-layer gradient norms over time, the latest value per layer, the total as a sparkline."""

    DEFAULT_CSS = """
    GradNormPane {
        height: auto;
        min-height: 3;
        padding: 0 1;
    }
    GradNormPane > .grad-norm--label { color: $foreground; }
    GradNormPane > .grad-norm--muted { color: $foreground-muted; }
    GradNormPane > .grad-norm--heat { color: $primary; }
    GradNormPane > .grad-norm--bad { color: $error; text-style: bold; }
    GradNormPane > .grad-norm--warn { color: $warning; text-style: bold; }
    GradNormPane > .grad-norm--total { color: $accent; }
    """

    COMPONENT_CLASSES = {
        "grad-norm--label",
        "grad-norm--muted",
        "grad-norm--heat",
        "grad-norm--bad",
        "grad-norm--warn",
        "grad-norm--total",
    }

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane."""
        super().__init__(name=name, id=id, classes=classes)
        self._layers: tuple[LayerNorms, ...] = ()
        self._total: npt.NDArray[np.float64] | None = None
        self._fingerprint: tuple[Any, ...] | None = None

    @property
    def layer_norms(self) -> tuple[LayerNorms, ...]:
        """The layers shown, in order."""
        return self._layers

    def show(self, layers: Sequence[LayerNorms], total: npt.ArrayLike | None = None) -> None:
        """Show these layers' norms (and the total norm, if recorded).

        Showing what is already shown does nothing (no repaint).
        """
        layers = tuple(layers)
        total = None if total is None else np.asarray(total, dtype=np.float64)
        fingerprint = (
            tuple((layer.label, *_fingerprint(layer.values)) for layer in layers),
            None if total is None else _fingerprint(total),
        )
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        self._layers = layers
        self._total = total
        self.content_changed()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload from a run when any ``grad_norm/`` tag grew."""
        if not affects(changes, prefixes=(GRAD_NORM_PREFIX,)):
            return
        layers = [
            LayerNorms(
                printable(tag.removeprefix(GRAD_NORM_PREFIX), keep_newlines=False),
                source.series(tag).value,
            )
            for tag in source.tags()
            if tag.startswith(GRAD_NORM_PREFIX) and tag != GRAD_NORM_TOTAL
        ]
        tags = source.tags()
        total = source.series(GRAD_NORM_TOTAL).value if GRAD_NORM_TOTAL in tags else None
        self.show(layers, total)

    def build_text(self, width: int) -> Text:
        """The heat strip, one row per layer, then the total norm."""
        return self.describe(width)

    def describe(self, width: int) -> Text:
        """The pane's content for ``width`` cells."""
        style = self.get_component_rich_style
        if not self._layers and self._total is None:
            return Text("no gradient norms recorded", style=style("grad-norm--muted"))
        flags = [classify(layer.values) for layer in self._layers]
        total_flag = classify(self._total) if self._total is not None else None
        longest_flag = max((len(f) for f in [*flags, total_flag] if f), default=0)
        # Every row is label, strip, latest value and flag, and fits the width whole. The
        # labels take what they need as long as a third of the width is left for the strip
        # (at least 4 cells); only then are they cut (with "…"), and never the numbers.
        tail_width = 8 + (longest_flag + 3 if longest_flag else 0)  # " 1.23e-8 ⚠ vanishing"
        longest = max((len(layer.label) for layer in self._layers), default=5)
        room = width - tail_width - 1 - max(4, width // 3)
        label_width = max(5, min(longest, room))
        strip_width = max(4, width - label_width - 1 - tail_width)
        levels = [heat_levels(layer.values, strip_width) for layer in self._layers]
        finite = [lv[np.isfinite(lv)] for lv in levels]
        all_levels = np.concatenate(finite) if finite else np.empty(0)
        lo = float(all_levels.min()) if all_levels.size else 0.0
        hi = float(all_levels.max()) if all_levels.size else 0.0
        heat = self._heat_styles()

        text = Text(no_wrap=True, overflow="ellipsis")
        for layer, level, flag in zip(self._layers, levels, flags, strict=True):
            label = short_label(layer.label, label_width)
            text.append(label.ljust(label_width) + " ", style("grad-norm--label"))
            for cell in level.tolist():
                text.append(*_heat_cell(cell, lo, hi, heat, style("grad-norm--bad")))
            text.append(" " * (strip_width - level.size))
            latest = _latest(layer.values)
            text.append(
                f" {format_number(latest) if latest is not None else '—':>7}",
                style("grad-norm--label"),
            )
            if flag is not None:
                bad = flag in ("vanishing", "exploding", "non-finite")
                text.append(f" ⚠ {flag}", style("grad-norm--bad" if bad else "grad-norm--warn"))
            text.append("\n")
        if self._total is not None and self._total.size:
            latest = _latest(self._total)
            text.append("total".ljust(label_width) + " ", style("grad-norm--label"))
            text.append(
                sparkline(self._total, strip_width).ljust(strip_width), style("grad-norm--total")
            )
            text.append(
                f" {format_number(latest) if latest is not None else '—':>7}",
                style("grad-norm--label"),
            )
            if total_flag is not None:
                text.append(f" ⚠ {total_flag}", style("grad-norm--bad"))
            text.append("\n")
        if self._layers:
            legend = f"shade = log10 norm, {_decade(lo)} … {_decade(hi)}"
            # Under the strips when it fits there; else from the left edge, never wrapped.
            indent = label_width + 1 if label_width + 1 + len(legend) <= width else 0
            if len(legend) > width:
                legend = f"shade: log10 {_decade(lo)}…{_decade(hi)}"
            text.append(" " * indent + legend, style("grad-norm--muted"))
        text.rstrip()
        return text

    def _heat_styles(self) -> list[Style]:
        # Shades of $primary from faint to full: the cell character carries the level too.
        base = self.get_component_rich_style("grad-norm--heat")
        color = Color.from_rich_color(base.color) if base.color else Color.parse("white")
        background = self.background_colors[1]
        return [
            Style(color=color.blend(background, 0.75 - 0.25 * i).rich_color)
            for i in range(len(SHADES) - 1)
        ]


def short_label(label: str, width: int) -> str:
    """``label`` in at most ``width`` cells. A stack's name gives way before the layer's
    (``discrimin…/0_dense``): rows of one stack would otherwise all read alike."""
    if len(label) <= width:
        return label
    head, slash, tail = label.rpartition("/")
    if slash and len(tail) + 2 <= width:
        return head[: width - len(tail) - 2] + "…/" + tail
    return label[: width - 1] + "…"


def _heat_cell(
    level: float, lo: float, hi: float, styles: list[Style], bad: Style
) -> tuple[str, Style]:
    if not math.isfinite(level):
        return "·", styles[0]
    if level < math.log10(VANISHING) or level > math.log10(EXPLODING):
        return "█", bad
    index = 0 if hi <= lo else round((level - lo) / (hi - lo) * (len(styles) - 1))
    return SHADES[index + 1], styles[index]


def _fingerprint(values: npt.ArrayLike) -> tuple[Any, ...]:
    """Identifies an append-only series cheaply: its length and its last value's bits.

    Readers hand out a fresh view of the same growing buffer on every poll, so
    identity says nothing; comparing whole arrays would cost a pass over each.
    """
    array = np.asarray(values, dtype=np.float64)
    return (array.size, array[-1].tobytes() if array.size else b"")


def _latest(values: npt.NDArray[np.float64]) -> float | None:
    return float(values[-1]) if values.size else None


def _decade(level: float) -> str:
    """The norm at a log10 ``level``, written out: decades alone said "1e-2 … 1e-2" for
    norms from 0.0189 to 0.0287 (both round down to the same power of ten)."""
    return format_number(10.0**level) if math.isfinite(level) else "?"
