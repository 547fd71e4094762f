"""DiffPane: the experiment fields that differ between runs, every value whole.

Runs are named by a letter (A, B, ...) in their plot colour, with a key to the
letters at the top, so that a value column is as wide as its values rather than a
run id. When field and values fit side by side they form a table; otherwise each
field is followed by its values, one run per line, wrapped: a value is never cut.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.color import Color

from dltui.safe_text import printable
from dltui.tui.widgets.text_pane import TextPane

NO_DIFFERENCES = "no differences: the runs' experiment files agree"


def run_letter(index: int) -> str:
    """``A`` … ``Z``, then ``AA``, ``AB`` …: a short name for run ``index``."""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return name


class DiffPane(TextPane):
    """Fields that differ (``path -> one value per run``), with the runs' legend."""

    DEFAULT_CSS = """
    DiffPane {
        height: auto;
        padding: 0 1;
    }
    DiffPane > .diff--field { color: $foreground; text-style: bold; }
    DiffPane > .diff--muted { color: $foreground-muted; }
    """

    COMPONENT_CLASSES = {"diff--field", "diff--muted"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """An empty pane."""
        super().__init__(id=id, classes=classes)
        self._runs: list[tuple[str, str | None]] = []
        self._rows: list[tuple[str, list[str]]] = []

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """The fields shown and each run's value, as text."""
        return list(self._rows)

    def show(
        self, runs: Sequence[tuple[str, str | None]], rows: Sequence[tuple[str, list[str]]]
    ) -> None:
        """``runs``: (label, theme colour variable) per run; ``rows``: (field, values)."""
        self._runs = [(printable(label, keep_newlines=False), color) for label, color in runs]
        self._rows = [
            (
                printable(path, keep_newlines=False),
                [printable(v, keep_newlines=False) for v in values],
            )
            for path, values in rows
        ]
        self.content_changed()

    def build_text(self, width: int) -> Text:
        """The legend, then the fields as a table or, when too narrow, one block each."""
        style = self.get_component_rich_style
        muted, field = style("diff--muted"), style("diff--field")
        letters = [run_letter(i) for i in range(len(self._runs))]
        colors = [self._color(color) for _, color in self._runs]
        text = Text()
        for letter, (label, _), color in zip(letters, self._runs, colors, strict=True):
            text.append(f"{letter} ", color + Style(bold=True))
            text.append(label + "\n", muted)
        if not self._rows:
            text.append(NO_DIFFERENCES, muted)
            return text
        text.append("\n")
        field_width = max(len(path) for path, _ in self._rows)
        value_widths = [
            max(len(letters[i]), *(len(values[i]) for _, values in self._rows))
            for i in range(len(letters))
        ]
        if field_width + sum(w + 2 for w in value_widths) <= width:
            text.append(" " * field_width, muted)
            for letter, w, color in zip(letters, value_widths, colors, strict=True):
                text.append("  " + letter.ljust(w), color + Style(bold=True))
            text.append("\n")
            for path, values in self._rows:
                text.append(path.ljust(field_width), field)
                for value, w in zip(values, value_widths, strict=True):
                    text.append("  " + value.ljust(w))
                text.append("\n")
        else:
            for path, values in self._rows:
                text.append(path + "\n", field)
                for letter, value, color in zip(letters, values, colors, strict=True):
                    text.append(f"  {letter} ", color + Style(bold=True))
                    text.append(value + "\n")
        text.rstrip()
        return text

    def _color(self, name: str | None) -> Style:
        raw = self.app.theme_variables.get(name or "") if name else None
        if not raw:
            return Style()
        color = self.background_colors[1] + Color.parse(raw)
        return Style(color=color.rich_color)
