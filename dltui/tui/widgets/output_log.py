"""OutputLog: the run's output.log, followed by appending only the new lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import Log

from dltui.tui.widgets.changes import ChangesLike, affects


class OutputLog(Log):
    """A :class:`textual.widgets.Log` fed with the lines a run printed since the last update.

    The reader's :meth:`~dltui.runs.RunReader.read_output` keeps its own offset, so
    each update reads only the new bytes; a first update shows the recent tail.
    """

    DEFAULT_CSS = """
    OutputLog {
        height: 1fr;
        min-height: 3;
        background: $surface;
        color: $foreground;
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
        super().__init__(max_lines=max_lines, auto_scroll=True, name=name, id=id, classes=classes)
        self.lines_received = 0

    def append(self, lines: Iterable[str]) -> None:
        """Add output lines (without newlines) at the end."""
        batch = list(lines)
        if batch:
            self.write_lines(batch)
            self.lines_received += len(batch)

    def update_from(self, reader: Any, changes: ChangesLike | None = None) -> None:
        """Append what output.log gained since the last call (reset: start over)."""
        if changes is not None and changes.reset:
            self.clear()
        if not affects(changes, output=True):
            return
        self.append(reader.read_output())
