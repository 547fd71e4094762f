"""OutputLog: the run's output.log, followed by appending only the new lines, wrapped.

A trainer's output holds long lines (an epoch's metrics, a traceback's paths) that a
person must read whole, and text from a file may hold escape sequences. So lines are
kept as printable text (`dltui.safe_text.printable`: an ``ESC`` shows as ``␛``, never
reaches the terminal) and wrapped at the pane's width, the continuation rows
indented; the wrapping is redone only when the width changes, and extended by the
new lines otherwise. The view follows the end unless the person scrolled up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dltui.safe_text import printable
from dltui.tui.widgets.changes import affects

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


_INDENT = "  "
"""Continuation rows of a wrapped line start with this, so they read as one line."""


def wrap_line(line: str, width: int) -> list[str]:
    """``line`` cut into rows of at most ``width`` cells, continuations indented.

    Rows break at a space where there is one in the last two thirds of the row, so
    words and numbers (``0.4449``) stay whole; a longer run of non-spaces (a path)
    is cut where the row ends.
    """
    width = max(1, width)
    if cell_len(line) <= width:
        return [line]
    rows: list[str] = []
    rest, room = line, width
    while cell_len(rest) > room:
        head = rest[:room] if rest.isascii() else chop_cells(rest, room)[0]
        cut = head.rfind(" ")
        if cut > room // 3:
            head = head[:cut].rstrip(" ")
        rows.append(head if not rows else _INDENT + head)
        rest = rest[len(head) :].lstrip(" ")
        room = max(1, width - len(_INDENT))
    if rest:
        rows.append(rest if not rows else _INDENT + rest)
    return rows


class OutputLog(ScrollView, can_focus=True):
    """The lines a run printed, wrapped to the width, keeping at most ``max_lines``."""

    DEFAULT_CSS = """
    OutputLog {
        height: 1fr;
        min-height: 3;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;  /* the wrap width stays put when the scrollbar comes */
    }
    """

    def __init__(
        self,
        *,
        max_lines: int = 5000,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """A log keeping at most ``max_lines`` lines, following the end."""
        super().__init__(name=name, id=id, classes=classes)
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._rows: list[str] = []
        self._row_counts: deque[int] = deque()
        """How many rows each wrapped line took, oldest first."""
        self._wrapped_width = 0
        self.lines_received = 0

    @property
    def lines(self) -> list[str]:
        """The lines kept, oldest first (as shown, control characters made visible)."""
        return list(self._lines)

    def append(self, lines: Iterable[str]) -> None:
        """Add output lines (without newlines) at the end."""
        batch = [printable(line, keep_newlines=False).expandtabs(4) for line in lines]
        if not batch:
            return
        limit = self._lines.maxlen or len(self._lines) + len(batch)
        dropped = max(0, len(self._lines) + len(batch) - limit)
        self._lines.extend(batch)
        self.lines_received += len(batch)
        if dropped >= len(self._row_counts):
            self._wrapped_width = 0  # nothing wrapped is kept: start over
        elif dropped:
            # The oldest lines fell out of the window: their rows go, the rest stay.
            rows = sum(self._row_counts.popleft() for _ in range(dropped))
            del self._rows[:rows]
        self._rewrap()

    def clear(self) -> None:
        """Forget every line."""
        self._lines.clear()
        self._wrapped_width = 0
        self._rewrap()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Append what output.log gained since the last call (reset: start over)."""
        if changes is not None and changes.reset:
            self.clear()
        if not affects(changes, output=True):
            return
        self.append(source.read_output())

    def on_resize(self) -> None:
        """Wrap again at the new width."""
        self._rewrap()

    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0:
            return
        at_end = self.scroll_y >= self.max_scroll_y
        if width != self._wrapped_width:
            self._rows, self._wrapped_width = [], width
            self._row_counts.clear()
        for line in islice(self._lines, len(self._row_counts), None):
            rows = wrap_line(line, width)
            self._rows.extend(rows)
            self._row_counts.append(len(rows))
        self.virtual_size = Size(width, len(self._rows))
        if at_end:
            # After the next refresh: the new virtual size sets how far it can scroll.
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the view (scrolled)."""
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if 0 <= index < len(self._rows):
            return Strip([Segment(self._rows[index], style)]).adjust_cell_length(width, style)
        return Strip.blank(width, style)
