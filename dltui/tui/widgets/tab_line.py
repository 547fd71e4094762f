"""TabLine: a one-line bar of numbered labels, one highlighted, each clickable.

The run view used Textual's `Tabs`, which is eleven widgets for seven labels
(a tab each, an underline, two containers). Every widget costs a few
milliseconds to mount, style and paint, and the run view is opened all the
time, so the bar is drawn as one line of text instead. Keys move between panes
through the screen's bindings; a click on a label posts `TabLine.Chosen`.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

_GAP = "  "


class TabLine(Widget):
    """Labels ``1 Curves  2 Overview ...`` with the active one highlighted."""

    DEFAULT_CSS = """
    TabLine {
        height: 1;
        padding: 0 1;
    }
    """

    active: reactive[int] = reactive(0)
    """Index of the highlighted label."""

    class Chosen(Message):
        """The label at ``index`` was clicked."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, labels: list[str], *, id: str | None = None) -> None:
        """``labels`` are shown numbered from 1, in order."""
        super().__init__(id=id)
        self.labels = [f" {number} {label} " for number, label in enumerate(labels, start=1)]

    def render(self) -> Content:
        """The labels, the active one in the theme's primary colour."""
        parts: list[Content | str] = []
        for index, label in enumerate(self.labels):
            if index:
                parts.append(_GAP)
            if index == self.active:
                parts.append(Content.styled(label, "bold $block-cursor-foreground on $primary"))
            else:
                parts.append(Content.styled(label, "$text-muted"))
        return Content.assemble(*parts)

    def index_at(self, x: int) -> int | None:
        """The label under column ``x`` of the content (None between labels)."""
        start = 0
        for index, label in enumerate(self.labels):
            if start <= x < start + len(label):
                return index
            start += len(label) + len(_GAP)
        return None

    def on_click(self, event: events.Click) -> None:
        """Choose the clicked label."""
        offset = event.get_content_offset(self)
        index = self.index_at(offset.x) if offset is not None else None
        if index is not None:
            self.post_message(self.Chosen(index))
