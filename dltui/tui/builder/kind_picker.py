"""Pick a layer kind: a filter box over every registered kind, grouped by category."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from dltui.layers.registry import Layer, layer_kinds
from dltui.tui.commands import PICKER

_CATEGORY_ORDER = (
    "core",
    "convolution",
    "pooling",
    "normalization",
    "activation",
    "recurrent",
    "attention",
    "structure",
)


_NAME_WIDTH = 22
"""The kind names' column (the longest, ``transformer_encoder``, and room)."""


def _summary(cls: type[Layer]) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def _kind_prompt(name: str, summary: str) -> Table:
    """A kind and its description in two columns: the description wraps in its own."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=_NAME_WIDTH, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(name), Text(summary))
    return grid


def matching_kinds(query: str) -> list[tuple[str, list[str]]]:
    """``(category, kinds)`` whose name, category or description contains ``query``.

    An exact name match comes first within its category, so typing a whole
    name and pressing enter picks it.
    """
    words = query.lower().split()
    groups: dict[str, list[str]] = {}
    for name, cls in layer_kinds().items():
        haystack = f"{name} {cls.category} {_summary(cls)}".lower()
        if all(word in haystack for word in words):
            groups.setdefault(cls.category, []).append(name)
    exact = query.strip().lower()
    ordered = sorted(
        groups,
        key=lambda c: (
            _CATEGORY_ORDER.index(c) if c in _CATEGORY_ORDER else len(_CATEGORY_ORDER),
            c,
        ),
    )
    if any(exact in names for names in groups.values()):
        ordered.sort(key=lambda c: exact not in groups[c])
    return [(c, sorted(groups[c], key=lambda n: n != exact)) for c in ordered]


class KindPicker(ModalScreen[str | None]):
    """Returns the chosen kind's name, or None when dismissed."""

    BINDINGS: ClassVar = PICKER.bindings()

    def __init__(self, title: str = "Add layer") -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(self._title, id="picker-title")
            yield Input(placeholder="filter: name, category or words", id="picker-filter")
            yield OptionList(id="picker-kinds")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        options = self.query_one("#picker-kinds", OptionList)
        options.clear_options()
        kinds = layer_kinds()
        entries: list[Option] = []
        for category, names in matching_kinds(query):
            entries.append(Option(f"── {category} ──", disabled=True))
            for name in names:
                entries.append(Option(_kind_prompt(name, _summary(kinds[name])), id=name))
        options.add_options(entries)
        first = next((i for i, o in enumerate(entries) if not o.disabled), None)
        options.highlighted = first

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _submit(self) -> None:
        options = self.query_one("#picker-kinds", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id is not None:
                self.dismiss(option.id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        """Move the highlight while typing in the filter."""
        options = self.query_one("#picker-kinds", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
