"""TrialTable: a sweep's trials, one row each, sorted by any column, the best starred.

The first column carries the marks: ``★`` on the best finished trial, ``◆`` on
trials marked for comparing. The heading of the column the rows are sorted by
shows ``▲``/``▼``. Refilling keeps the cursor on the same trial.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widgets import DataTable

from dltui.tui.screens.sweep_trials import (
    TRIAL_STATE_COLOURS,
    TrialColumn,
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
        rows = [self._cells(t, columns, best, marked) for t in ordered]
        headings = [
            c.label + (" ▼" if descending else " ▲") if c.key == sort_key else c.label
            for c in columns
        ]
        widths = [max([len(h), *(len(row[i]) for row, _ in rows)]) for i, h in enumerate(headings)]
        layout = (tuple(headings), tuple(widths))
        if layout != self._layout:
            self.clear(columns=True)
            for column, heading, width in zip(columns, headings, widths, strict=True):
                self.add_column(heading, key=column.key, width=width)
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
