"""RunTable: the browser's list of experiments and runs, as wide as its columns.

Textual's DataTable measures the rows added since its last idle moment on its
next one, and caches each row's rendering without the column widths in the
key: a paint in between (the screen's refresh timer, on a busy machine) drew
rows at the header's widths ("20260101-000 finish"), and they stayed so until
something else repainted them. This table works the widths out itself, from
the cells it is given, and adds its columns at those widths before any row, so
every paint of a row is at its final widths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widget import Widget
from textual.widgets import DataTable

from dltui.tui.screens.run_list import (
    COLUMNS,
    Cell,
    ColumnFit,
    ListRow,
    elidable,
    elide,
    fit_columns,
    format_age,
    run_label,
)
from dltui.tui.sweep_catalog import SweepEntry

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo

_AGE = 2
"""The Age column's index."""


class RunTable(DataTable[Text | str]):
    """Rows of `ListRow`; a run or an experiment under the cursor; ages that move on."""

    def __init__(self, *, id: str | None = None) -> None:
        """An empty list with its column headings."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, ListRow] = {}
        self._fit = ColumnFit((), (), (), None)

    def on_mount(self) -> None:
        """The headings, before anything is listed."""
        self._set_columns(fit_columns([], None))

    def _set_columns(self, fit: ColumnFit) -> None:
        self.clear(columns=True)
        for key, label, width in zip(fit.keys, fit.labels, fit.widths, strict=True):
            self.add_column(label, key=key, width=width)
        self._fit = fit

    def available_width(self) -> int | None:
        """The cells the columns may take: the most this table may be (its max-width in its
        container), less its border and a scrollbar's room (None before it is laid out)."""
        parent = self.parent
        if parent is None or not isinstance(parent, Widget) or parent.content_size.width <= 0:
            return None
        styles = self.styles
        most = parent.content_size.width
        if styles.max_width is not None:
            most = min(most, int(styles.max_width.resolve(parent.content_size, self.app.size)))
        return most - styles.gutter.width - styles.scrollbar_size_vertical

    # -- what is shown ----------------------------------------------------------------------

    def show(self, rows: Sequence[ListRow]) -> None:
        """List ``rows``, keeping the selection and the scroll position where they can stay.

        The columns are fitted to the width first (`fit_columns`): what does not fit gives
        way whole (a heading's long form, an experiment's name, a column), never cut.
        """
        selected = self.selected_key
        scroll_y = self.scroll_y
        fit = fit_columns(rows, self.available_width(), 2 * self.cell_padding)
        if fit != self._fit:
            self._set_columns(fit)  # clears the rows too
        else:
            self.clear()
        self._rows = {}
        for row in rows:
            self._rows[row.key] = row
            self.add_row(*self._texts(row), key=row.key)
        if selected in self._rows:
            self.move_cursor(row=self.get_row_index(selected), scroll=False)
            self.scroll_y = scroll_y

    def refit(self) -> None:
        """Fit the columns to a new width (the terminal was resized)."""
        fit = fit_columns(self.listed, self.available_width(), 2 * self.cell_padding)
        if self._rows and fit != self._fit:
            self.show(self.listed)

    def _texts(self, row: ListRow) -> list[Text]:
        keys = [key for _, key in COLUMNS]
        texts = []
        for key in self._fit.keys:
            cell = row.cells[keys.index(key)]
            if key == "name" and self._fit.name_width is not None and elidable(row):
                cell = dataclasses.replace(cell, text=elide(cell.text, self._fit.name_width))
            texts.append(self._text(cell))
        return texts

    def _text(self, cell: Cell) -> Text:
        return Text(cell.text, style=self._style(cell.colour, cell.bold))

    def _style(self, variable: str | None, bold: bool) -> Style:
        value = self.app.theme_variables.get(variable) if variable else None
        colour = None
        if value is not None:
            try:
                colour = Color.parse(value).rich_color
            except ColorParseError:
                colour = None
        return Style(color=colour, bold=bold or None)

    @property
    def listed(self) -> list[ListRow]:
        """The rows shown, in order."""
        return list(self._rows.values())

    def tick(self, now: float) -> bool:
        """Bring the Age column up to ``now`` (only cells whose text changed).

        Returns whether the selected row's age changed (its details say it too).
        """
        changed = False
        grown = False
        shown = "age" in self._fit.keys
        width = self._fit.widths[self._fit.keys.index("age")] if shown else 0
        for key, row in list(self._rows.items()):
            age = format_age(now - row.since if row.since else None)
            if age == row.cells[_AGE].text:
                continue
            cells = (*row.cells[:_AGE], Cell(age), *row.cells[_AGE + 1 :])
            self._rows[key] = dataclasses.replace(row, cells=cells)
            grown = grown or (shown and cell_len(age) > width)
            if shown and not grown:
                self.update_cell(key, "age", self._text(cells[_AGE]))
            changed = changed or key == self.selected_key
        if grown:
            self.show(self.listed)  # a wider age ("100d"): the column widens first
        return changed

    def mark(self, run: RunInfo, marked: bool) -> None:
        """Show ``run`` marked (``◆``) or not."""
        key = f"run:{run.path}"
        row = self._rows.get(key)
        if row is None:
            return
        label = run_label(run, marked)
        self._rows[key] = dataclasses.replace(row, cells=(label, *row.cells[1:]))
        self.update_cell(key, "name", self._text(label))

    # -- the selection ----------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        """The row key under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        return key

    @property
    def selected_item(self) -> RunInfo | str | SweepEntry | None:
        """The run or sweep under the cursor, or the experiment's name on an experiment row."""
        row = self._rows.get(self.selected_key or "")
        return None if row is None else row.item

    @property
    def selected_run(self) -> RunInfo | None:
        """The run under the cursor (None on an experiment or a sweep row)."""
        item = self.selected_item
        return None if item is None or isinstance(item, str | SweepEntry) else item

    @property
    def selected_sweep(self) -> SweepEntry | None:
        """The sweep under the cursor (None on any other row)."""
        item = self.selected_item
        return item if isinstance(item, SweepEntry) else None

    @property
    def selected_experiment(self) -> str | None:
        """The experiment under the cursor, or the experiment of the run or sweep under it."""
        item = self.selected_item
        return item.experiment if item is not None and not isinstance(item, str) else item

    def runs(self) -> list[RunInfo]:
        """The runs listed, in order (those of folded experiments are not)."""
        return [
            row.item for row in self._rows.values() if not isinstance(row.item, str | SweepEntry)
        ]

    def runs_of(self, experiment: str) -> list[RunInfo]:
        """The runs of ``experiment`` listed, in order."""
        return [run for run in self.runs() if run.experiment == experiment]

    def select(self, key: str, *, scroll: bool = True) -> None:
        """Move the cursor to the row ``key``, if it is listed."""
        if key in self._rows:
            self.move_cursor(row=self.get_row_index(key), scroll=scroll)

    def keys(self) -> list[str]:
        """Every row key, in order."""
        return list(self._rows)
