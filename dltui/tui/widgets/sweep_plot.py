"""SweepPlot: a sweep's points on the braille canvas — trials as dots, the best-so-far line.

The sweep view plots values against a trial number or a sampled value, not
against steps, so it lays out `Trace`s itself (`render_frame` with
``x_kind="value"``, optionally a log x for log-uniform parameters) instead of
`LinePlot`'s run series. Each trace names the theme variable it is drawn in.
The frame is cached and rebuilt only when the data, the size or the theme changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from dltui.tui.plotting.canvas import LineStyle
from dltui.tui.plotting.figure import Frame, Trace, render_frame


@dataclass(frozen=True)
class SweepTrace:
    """Points of one kind: ``x``/``y`` pairs, as dots or a line, in a theme colour."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    colour: str = "primary"
    line: bool = False
    """Joined by a line (the best so far) rather than dots (the trials)."""


class SweepPlot(Widget):
    """A titled plot of `SweepTrace`s with a legend, y labels and x labels."""

    DEFAULT_CSS = """
    SweepPlot {
        height: 1fr;
        min-height: 5;
        min-width: 20;
        color: $foreground;
    }
    SweepPlot > .sweepplot--axis { color: $foreground-muted; }
    SweepPlot > .sweepplot--title { color: $foreground; text-style: bold; }
    SweepPlot > .sweepplot--message { color: $foreground-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {"sweepplot--axis", "sweepplot--title", "sweepplot--message"}

    def __init__(
        self,
        title: str = "",
        *,
        empty_message: str = "no finished trials yet",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """An empty plot titled ``title`` (``empty_message`` until it has points)."""
        super().__init__(id=id, classes=classes)
        self.title = title
        self.empty_message = empty_message
        self.log_x = False
        self.x_ticks: tuple[tuple[float, str], ...] = ()
        self._traces: tuple[SweepTrace, ...] = ()
        self._version = 0
        self._key: tuple[Any, ...] | None = None
        self._strips: list[Strip] = []
        self.frame: Frame | None = None
        """The frame last drawn (tests read its text)."""

    @property
    def traces(self) -> tuple[SweepTrace, ...]:
        """What is plotted now."""
        return self._traces

    def show(
        self,
        traces: Sequence[SweepTrace],
        *,
        title: str | None = None,
        log_x: bool = False,
        empty_message: str | None = None,
        x_ticks: Sequence[tuple[float, str]] = (),
    ) -> None:
        """Plot ``traces`` (redrawn only when something changed); ``x_ticks`` names the
        x places of values that are not numbers."""
        new = (
            tuple(traces),
            title or self.title,
            log_x,
            empty_message or self.empty_message,
            tuple(x_ticks),
        )
        if new == (self._traces, self.title, self.log_x, self.empty_message, self.x_ticks):
            return
        self._traces, self.title, self.log_x, self.empty_message, self.x_ticks = new
        self._version += 1
        self.refresh()

    def build_frame(self, width: int, height: int) -> Frame:
        """The laid-out plot at ``width`` x ``height`` cells."""
        traces = [
            Trace(
                t.label,
                np.asarray(t.x, dtype=np.float64),
                np.asarray(t.y, dtype=np.float64),
                scatter=not t.line,
                style=LineStyle.SOLID,
            )
            for t in self._traces
        ]
        return render_frame(
            traces,
            width,
            height,
            title=self.title,
            x_kind="value",
            empty_message=self.empty_message,
            log_x=self.log_x,
            x_ticks=self.x_ticks or None,
        )

    def render_line(self, y: int) -> Strip:
        """One row of the cached frame (rebuilt first when stale)."""
        width, height = self.size
        key = (self._version, width, height, self.app.theme, self.app.no_color, self.rich_style)
        if key != self._key:
            self.frame = self.build_frame(width, height)
            styles = self._styles()
            base = self.rich_style
            self._strips = [
                Strip([Segment(text, styles.get(role, base)) for text, role in row if text], width)
                for row in self.frame.rows
            ]
            self._key = key
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(width)

    def _styles(self) -> dict[str, Style]:
        base = self.rich_style
        variables = self.app.theme_variables
        background = self.background_colors[1]
        styles = {
            "axis": base + self.get_component_rich_style("sweepplot--axis", partial=True),
            "title": base + self.get_component_rich_style("sweepplot--title", partial=True),
            "message": base + self.get_component_rich_style("sweepplot--message", partial=True),
        }
        for index, trace in enumerate(self._traces):
            raw = variables.get(trace.colour) or variables.get("primary") or "ansi_blue"
            colour = (background + Color.parse(raw)).rich_color
            styles[f"line:{index}"] = base + Style(color=colour)
            styles[f"legend:{index}"] = base + Style(color=colour, bold=True)
        return styles
