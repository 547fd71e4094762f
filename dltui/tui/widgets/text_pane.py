"""TextPane: a pane drawn as one styled text, rebuilt only when its data changed.

A live run reports new data about ten times a second. Building a pane's text
costs little, but asking Textual for a new layout (``refresh(layout=True)``)
re-arranges and repaints the whole screen, tens of milliseconds each time. So a
`TextPane` caches its text per data version, width and theme, and asks for a
layout only when the number of lines it occupies changed; otherwise it repaints
only itself.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget


class TextPane(Widget):
    """Base of the panes whose content is one :class:`rich.text.Text`.

    Subclasses implement :meth:`build_text` and call :meth:`content_changed`
    after their data changed (and only then).
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane."""
        super().__init__(name=name, id=id, classes=classes)
        self._data_version = 0
        self._text_key: tuple[Any, ...] | None = None
        self._text = Text()
        self._line_count = -1

    def build_text(self, width: int) -> Text:
        """The pane's content for ``width`` cells (called only when something it shows changed)."""
        raise NotImplementedError

    def render(self) -> Text:
        """The cached text, rebuilt if the data, width or theme changed since it was built."""
        return self._current_text(self.content_size.width)

    def _current_text(self, width: int) -> Text:
        width = width or 60  # not laid out yet: any sensible width
        key = (self._data_version, width, self.app.theme, self.rich_style)
        if key != self._text_key:
            self._text = self.build_text(width)
            self._text_key = key
        return self._text

    def content_changed(self) -> None:
        """Repaint after the data changed; lay the screen out again only if the height did."""
        self._data_version += 1
        if not self.is_mounted:
            return
        height = self.styles.height
        if height is not None and not height.is_auto:
            # A height set by the screen (``1fr``, a number of rows) is the same whatever
            # the text: repainting this pane is all it takes.
            self.refresh()
            return
        width = self.content_size.width
        text = self._current_text(width)
        lines = len(text.wrap(self.app.console, width)) if width else -1
        self.refresh(layout=lines != self._line_count or lines < 0)
        self._line_count = lines
