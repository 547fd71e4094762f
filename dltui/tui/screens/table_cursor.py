"""The cursor keys of a screen whose rows are one `DataTable` (the browser, the sweep view)."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable


class TableCursorKeys:
    """``j``/``k``/``g``/``G`` on the screen's ``table`` (a property the screen defines)."""

    @property
    def table(self) -> DataTable[Any]:
        """The screen's table of rows."""
        raise NotImplementedError

    def action_cursor_down(self) -> None:
        """Move down a row."""
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        """Move up a row."""
        self.table.action_cursor_up()

    def action_top(self) -> None:
        """Go to the first row."""
        self.table.move_cursor(row=0)

    def action_bottom(self) -> None:
        """Go to the last row."""
        self.table.move_cursor(row=max(0, self.table.row_count - 1))
