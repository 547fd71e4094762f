"""SamplePane: the latest generated sample: text from a language model, or a GAN's 2-D points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from dltui.tui.plotting.figure import Trace, render_frame
from dltui.tui.widgets.changes import ChangesLike, affects

NO_SAMPLE = "no samples yet"


def sample_points(sample: Mapping[str, Any], key: str = "points") -> np.ndarray | None:
    """``sample[key]`` as an ``(n, 2)`` float array, or None when absent or not pairs."""
    raw = sample.get(key)
    if raw is None:
        return None
    try:
        points = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if points.ndim != 2 or points.shape[1] < 2 or points.shape[0] == 0:
        return None
    return points[:, :2]


class SamplePane(Widget):
    """Shows a ``sample`` event: its text, or a scatter of its points (and real ones if given)."""

    DEFAULT_CSS = """
    SamplePane {
        height: 1fr;
        min-height: 4;
        padding: 0 1;
        color: $foreground;
    }
    SamplePane > .sample--title { color: $foreground-muted; }
    SamplePane > .sample--generated { color: $accent; }
    SamplePane > .sample--real { color: $primary; }
    SamplePane > .sample--muted { color: $foreground-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {"sample--title", "sample--generated", "sample--real", "sample--muted"}

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane."""
        super().__init__(name=name, id=id, classes=classes)
        self._sample: Mapping[str, Any] | None = None
        self._key: tuple[Any, ...] | None = None
        self._strips: list[Strip] = []

    @property
    def sample(self) -> Mapping[str, Any] | None:
        """The sample event shown."""
        return self._sample

    def show(self, sample: Mapping[str, Any] | None) -> None:
        """Show a ``sample`` event ({epoch, text} or {epoch, points[, real]})."""
        self._sample = sample
        self._key = None
        self.refresh()

    def update_from(self, reader: Any, changes: ChangesLike | None = None) -> None:
        """Reload from a :class:`dltui.runs.RunReader` when a new ``sample`` event arrived."""
        if affects(changes, kinds=("sample",)):
            self.show(reader.latest("sample"))

    def render_line(self, y: int) -> Strip:
        """One row of the pane, from a cache rebuilt on new data, size or theme."""
        width, height = self.content_size
        key = (width, height, self.app.theme, self.rich_style)
        if key != self._key:
            self._strips = self._build(width, height)
            self._key = key
        return (
            self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(width, self.rich_style)
        )

    def _build(self, width: int, height: int) -> list[Strip]:
        style = self.get_component_rich_style
        sample = self._sample
        if sample is None:
            return self._text_strips(Text(NO_SAMPLE, style=style("sample--muted")), width, height)
        epoch = sample.get("epoch")
        heading = f"sample after epoch {epoch}" if epoch is not None else "latest sample"
        generated = sample_points(sample)
        if generated is None:
            body = sample.get("text")
            text = Text(heading + "\n", style=style("sample--title"))
            text.append(
                str(body) if body is not None else "(the sample has neither text nor points)"
            )
            return self._text_strips(text, width, height)
        traces = []
        real = sample_points(sample, "real")
        if real is not None:
            traces.append(Trace("real", real[:, 0], real[:, 1], scatter=True))
        traces.append(Trace("generated", generated[:, 0], generated[:, 1], scatter=True))
        frame = render_frame(traces, width, height, title=heading, x_kind="value")
        base = self.rich_style
        colors = {
            "real": style("sample--real"),
            "generated": style("sample--generated"),
        }
        roles: dict[str, Style] = {
            "title": base + style("sample--title"),
            "axis": base + style("sample--title"),
        }
        for index, trace in enumerate(traces):
            color = colors[trace.label].color
            tone = base + Style(color=color or Color.parse("white").rich_color)
            roles[f"line:{index}"] = roles[f"legend:{index}"] = tone
        return [
            Strip([Segment(text, roles.get(role, base)) for text, role in row if text], width)
            for row in frame.rows
        ]

    def _text_strips(self, text: Text, width: int, height: int) -> list[Strip]:
        lines = text.wrap(self.app.console, max(1, width))
        strips = [
            Strip(list(line.render(self.app.console)), line.cell_len).adjust_cell_length(
                width, self.rich_style
            )
            for line in lines[: max(1, height)]
        ]
        return [Strip([seg for seg in strip if seg.text], width) for strip in strips]
