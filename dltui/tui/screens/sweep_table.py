"""TrialTable: a sweep's trials, one row each, sorted by any column, the best starred.

The first column carries the marks: ``★`` on the best finished trial, ``◆`` on
trials marked for comparing. The heading of the column the rows are sorted by
shows ``▲``/``▼``. Refilling keeps the cursor on the same trial.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widgets import DataTable

from dltui.tui.screens.sweep_trials import (
    TRIAL_STATE_COLOURS,
    TrialColumn,
    column_width,
    fit_trial_columns,
    heading_lines,
    sort_trials,
    trial_cells,
)

if TYPE_CHECKING:
    from dltui.sweep.report import TrialRow


class TrialTable(DataTable[Text]):
    """The trials of a sweep; the trial under the cursor is `selected_trial`."""

    def __init__(self, *, id: str | None = None) -> None:
        """An empty table (rows come with `show`)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._trials: dict[str, TrialRow] = {}
        self._layout: tuple[object, ...] = ()
        self.hidden: list[TrialColumn] = []
        """Columns left out at this width (said of the selected trial under the table)."""
        self.shown_columns: list[TrialColumn] = []
        """The columns shown, in order."""

    def available_width(self) -> int | None:
        """The cells the columns may take: the table less its border and a scrollbar's
        room (None before it is laid out)."""
        outer = self.outer_size.width
        if outer <= 0:
            return None
        return outer - self.styles.gutter.width - self.styles.scrollbar_size_vertical

    def show(
        self,
        trials: Sequence[TrialRow],
        columns: Sequence[TrialColumn],
        *,
        sort_key: str,
        descending: bool,
        best: int | None,
        marked: Collection[int],
    ) -> list[TrialRow]:
        """List ``trials`` sorted by ``sort_key``; returns them in the order shown."""
        selected = self.selected_trial
        ordered = sort_trials(trials, sort_key, descending)
        every = [self._cells(t, columns, best, marked) for t in ordered]
        shown = fit_trial_columns(
            columns, [cells for cells, _ in every], self.available_width(), 2 * self.cell_padding
        )
        self.shown_columns = shown
        self.hidden = [c for c in columns if c not in shown]
        at = [list(columns).index(c) for c in shown]
        rows = [([cells[i] for i in at], colour) for cells, colour in every]
        columns = shown
        two_lines = any(c.over for c in columns)
        mark = "▼" if descending else "▲"
        natural = [column_width(c, [row[i] for row, _ in rows]) for i, c in enumerate(columns)]
        headings = [
            heading_lines(c, w, mark if c.key == sort_key else "", two_lines)
            for c, w in zip(columns, natural, strict=True)
        ]
        widths = [
            max(w, *(cell_len(line) for line in h)) for w, h in zip(natural, headings, strict=True)
        ]
        layout = (tuple(headings), tuple(widths), two_lines)
        if layout != self._layout:
            self.clear(columns=True)
            self.header_height = 2 if two_lines else 1
            for column, (over, under), width in zip(columns, headings, widths, strict=True):
                # Two-line headings: the field's name at the bottom, by its cells.
                label = f"{over}\n{under}" if two_lines else under
                self.add_column(Text(label), key=column.key, width=width)
            self._layout = layout
        else:
            self.clear()
        self._trials = {}
        for trial, (cells, colour) in zip(ordered, rows, strict=True):
            key = str(trial.number)
            self._trials[key] = trial
            texts = [Text(cell) for cell in cells]
            state_at = [c.key for c in columns].index("state")
            texts[state_at].stylize(self._style(colour))
            if trial.number == best:
                for text in texts:
                    text.stylize("bold")
            self.add_row(*texts, key=key)
        if selected is not None and str(selected.number) in self._trials:
            self.move_cursor(row=self.get_row_index(str(selected.number)), scroll=False)
        return ordered

    def _cells(
        self,
        trial: TrialRow,
        columns: Sequence[TrialColumn],
        best: int | None,
        marked: Collection[int],
    ) -> tuple[list[str], str]:
        cells = trial_cells(trial, columns, time.time())
        mark = "★" if trial.number == best else "◆" if trial.number in marked else " "
        if trial.number == best and trial.number in marked:
            mark = "★◆"
        cells[0] = f"{mark}{cells[0]}" if len(mark) > 1 else f"{mark} {cells[0]}"
        return cells, TRIAL_STATE_COLOURS.get(trial.state, "foreground")

    def _style(self, variable: str) -> Style:
        value = self.app.theme_variables.get(variable)
        try:
            return Style(color=Color.parse(value).rich_color) if value else Style()
        except ColorParseError:
            return Style()

    @property
    def selected_trial(self) -> TrialRow | None:
        """The trial under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None
        return self._trials.get(key or "")

    @property
    def shown(self) -> list[TrialRow]:
        """The trials in the order listed."""
        return list(self._trials.values())
