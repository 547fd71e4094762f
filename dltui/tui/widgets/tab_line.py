"""TabLine: a one-line bar of numbered labels, one highlighted, each clickable.

The run view used Textual's `Tabs`, which is eleven widgets for seven labels
(a tab each, an underline, two containers). Every widget costs a few
milliseconds to mount, style and paint, and the run view is opened all the
time, so the bar is drawn as one line of text instead. Keys move between panes
through the screen's bindings; a click on a label posts `TabLine.Chosen`.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @dataclass
    class Chosen(Message):
        """The label at ``index`` was clicked."""

        index: int

    def __init__(
        self, labels: list[str], *, short: list[str] | None = None, id: str | None = None
    ) -> None:
        """``labels`` are shown numbered from 1, in order; ``short`` (as many) are their
        shorter forms, for when the labels do not fit."""
        super().__init__(id=id)
        self.titles = list(labels)
        self.short_titles = list(short) if short and len(short) == len(labels) else []
        self._spans: list[tuple[int, int]] = []

    def _parts(self, width: int) -> tuple[list[str], str]:
        """The label texts and the gap between them that fit ``width`` cells.

        Roomy ``" 1 Curves "`` labels two cells apart when they fit; then
        ``"1 Curves"`` one cell apart; then the short titles so; then only the active
        label with its title and the others as their number, so the active one is
        always in view.
        """
        numbered = [f"{n} {title}" for n, title in enumerate(self.titles, start=1)]
        short = [f"{n} {title}" for n, title in enumerate(self.short_titles, start=1)]
        roomy = [f" {text} " for text in numbered]
        tiers = [(roomy, _GAP), (numbered, " ")] + ([(short, " ")] if short else [])
        for texts, gap in tiers:
            if sum(map(len, texts)) + len(gap) * (len(texts) - 1) <= width:
                return texts, gap
        short = [text if i == self.active else f" {i + 1} " for i, text in enumerate(roomy)]
        return short, ""

    def render(self) -> Content:
        """The labels, the active one in the theme's primary colour."""
        texts, gap = self._parts(self.content_size.width)
        parts: list[Content | str] = []
        self._spans = []
        column = 0
        for index, text in enumerate(texts):
            if index and gap:
                parts.append(gap)
                column += len(gap)
            if index == self.active:
                parts.append(Content.styled(text, "bold $block-cursor-foreground on $primary"))
            else:
                parts.append(Content.styled(text, "$text-muted"))
            self._spans.append((column, column + len(text)))
            column += len(text)
        return Content.assemble(*parts)

    def index_at(self, x: int) -> int | None:
        """The label under column ``x`` of the content, as last drawn (None between labels)."""
        for index, (start, end) in enumerate(self._spans):
            if start <= x < end:
                return index
        return None

    def on_click(self, event: events.Click) -> None:
        """Choose the clicked label."""
        offset = event.get_content_offset(self)
        index = self.index_at(offset.x) if offset is not None else None
        if index is not None:
            self.post_message(self.Chosen(index))
