"""A form generated from `FieldSpec`s: one input per field, errors shown as typed.

Choices and booleans are `Select`s, numbers are `Input`s of type integer or
number, lists are comma-separated text. A valid value is posted at once as
`FieldEdited`; an invalid one shows its reason under the input and changes
nothing. ``up``/``down`` move between fields, so ``tab`` can move between the
builder's panes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from dltui.builder.fields import REMOVE, FieldSpec, FieldValueError
from dltui.safe_text import printable
from dltui.tui.builder.messages import FieldEdited
from dltui.tui.commands import FORM, SELECT


@dataclass(frozen=True)
class FormItem:
    """A field of the form (``spec`` set) or a section heading (``spec`` None)."""

    key: str
    spec: FieldSpec | None
    value: Any = None
    """The value in the file, or ``None`` when the file does not set it."""


def heading(title: str) -> FormItem:
    """A section heading between fields."""
    return FormItem(key=f"heading:{title}", spec=None, value=title)


def note(text: str) -> FormItem:
    """A line of plain text under a heading (what the form does not edit), wrapped."""
    return FormItem(key=f"note:{text}", spec=None, value=text)


def _widget_id(key: str) -> str:
    return "field-" + "".join(c if c.isalnum() or c in "_-" else "--" for c in key)


class FieldSelect(Select[str]):
    """A choice field. It opens on enter/space only: up/down move between fields."""

    inherit_bindings = False
    BINDINGS: ClassVar = SELECT.bindings()

    def __init__(self, item: FormItem, **kwargs: Any) -> None:
        assert item.spec is not None
        spec = item.spec
        current = _select_value(spec, item.value)
        super().__init__(
            [(choice, choice) for choice in spec.choices],
            value=current if current is not None else Select.NULL,
            allow_blank=current is None or spec.optional,
            prompt=spec.placeholder,
            compact=True,
            **kwargs,
        )
        self.field_key = item.key
        self.spec = spec
        # Select posts Changed when a value is set in code (at mount too); only a
        # change away from what the document holds is the person's edit.
        self.shown: Any = current if current is not None else Select.NULL


class FieldInput(Input):
    """A number or text field, parsed by its `FieldSpec` as it is typed."""

    def __init__(self, item: FormItem, **kwargs: Any) -> None:
        assert item.spec is not None
        spec = item.spec
        kind = {"int": "integer", "float": "number"}.get(spec.kind, "text")
        super().__init__(
            value=spec.format(item.value),
            placeholder=spec.placeholder,
            type=kind,  # type: ignore[arg-type]
            compact=True,
            **kwargs,
        )
        self.field_key = item.key
        self.spec = spec


def _select_value(spec: FieldSpec, value: Any) -> str | None:
    shown = value if value is not None else spec.default
    if shown is None:
        return None
    text = spec.format(shown)
    return text if text in spec.choices else None


class FieldForm(VerticalScroll):
    """Inputs for a list of `FormItem`s; rebuilt when the fields change, else refreshed."""

    BINDINGS: ClassVar = FORM.bindings()

    DEFAULT_CSS = """
    FieldForm { height: 1fr; }
    """

    def __init__(self, *, empty_text: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items: list[FormItem] = []
        self._empty_text = empty_text
        self.can_focus = False
        # Selection changes and edits may ask for the form while a rebuild is awaiting.
        self._lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static(self._empty_text, classes="form-empty")

    @property
    def keys(self) -> list[str]:
        """The keys of the fields shown, in order."""
        return [item.key for item in self._items if item.spec is not None]

    def field_widgets(self) -> list[Widget]:
        """The inputs and selects, in order."""
        return list(self.query("FieldInput, FieldSelect"))

    def field_widget(self, key: str) -> FieldInput | FieldSelect:
        """The input of the field ``key``."""
        return self.query_one(f"#{_widget_id(key)}", FieldInput | FieldSelect)  # type: ignore[arg-type]

    def error_text(self, key: str) -> str:
        """The error shown under ``key`` (empty when its value is valid)."""
        label = self.query_one(f"#{_widget_id(key)}-error", Static)
        return str(label.render())

    async def show(self, items: list[FormItem], *, description: str = "") -> None:
        """Show ``items``: rebuild when the set of fields changed, else update values."""
        async with self._lock:
            await self._show(items, description)

    async def _show(self, items: list[FormItem], description: str) -> None:
        same = [i.key for i in items] == [i.key for i in self._items] and all(
            a.spec == b.spec for a, b in zip(items, self._items, strict=True)
        )
        self._items = list(items)
        if same and items:
            self._refresh_values()
            return
        with self.app.batch_update():
            await self.remove_children()
            widgets: list[Widget] = []
            if description:
                widgets.append(Static(Content(description), classes="form-description"))
            if not items:
                widgets.append(Static(self._empty_text, classes="form-empty"))
            for item in items:
                widgets.append(self._row(item))
            await self.mount_all(widgets)

    def _row(self, item: FormItem) -> Widget:
        if item.spec is None and item.key.startswith("note:"):
            return Static(Content(str(item.value)), classes="form-description")
        if item.spec is None:
            return Label(Content(str(item.value)), classes="form-heading")
        spec = item.spec
        title = spec.name + (" *" if spec.required else "")
        if spec.bounds_text:
            title += f"  ({spec.bounds_text})"
        widget_id = _widget_id(item.key)
        field: Widget
        if spec.kind in ("choice", "bool"):
            field = FieldSelect(item, id=widget_id)
        else:
            field = FieldInput(item, id=widget_id)
        field.tooltip = spec.description or None
        return Vertical(
            Label(Content(title), classes="field-label"),
            field,
            Static("", id=f"{widget_id}-error", classes="field-error"),
            classes="field-row",
        )

    def _refresh_values(self) -> None:
        """Show the document's values in every field the person is not typing in."""
        by_key = {item.key: item for item in self._items}
        for widget in self.field_widgets():
            assert isinstance(widget, (FieldInput, FieldSelect))
            item = by_key.get(widget.field_key)
            if item is None or item.spec is None or widget.has_focus:
                continue
            if isinstance(widget, FieldInput):
                text = item.spec.format(item.value)
                if widget.value != text:
                    with widget.prevent(Input.Changed):
                        widget.value = text
                self._set_error(widget.field_key, "")
            else:
                value = _select_value(item.spec, item.value)
                target = value if value is not None else Select.NULL
                widget.shown = target
                if widget.value != target:
                    with widget.prevent(Select.Changed):
                        widget.value = target

    def _set_error(self, key: str, text: str) -> None:
        found = self.query(f"#{_widget_id(key)}-error").results(Static)
        label = next(found, None)
        if label is None:
            return  # the form was rebuilt for another layer meanwhile
        label.update(Content(printable(text)))  # it quotes what was typed: text, not markup
        label.set_class(bool(text), "-shown")

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        widget = event.input
        if not isinstance(widget, FieldInput):
            return
        try:
            value = widget.spec.parse(event.value)
        except FieldValueError as exc:
            self._set_error(widget.field_key, str(exc))
            widget.add_class("-invalid")
            return
        self._set_error(widget.field_key, "")
        widget.remove_class("-invalid")
        self.post_message(FieldEdited(self.id or "", widget.field_key, value))

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next_field()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        widget = event.select
        if not isinstance(widget, FieldSelect) or event.value == widget.shown:
            return
        widget.shown = event.value
        value: Any = REMOVE if event.value is Select.NULL else widget.spec.parse(str(event.value))
        self.post_message(FieldEdited(self.id or "", widget.field_key, value))

    def focus_first(self) -> bool:
        """Focus the first field; False when the form has none."""
        widgets = self.field_widgets()
        if widgets:
            widgets[0].focus()
            return True
        return False

    def _move(self, step: int) -> None:
        widgets = self.field_widgets()
        if not widgets:
            return
        focused = self.screen.focused
        index = next((i for i, w in enumerate(widgets) if w is focused), -1)
        widgets[max(0, min(len(widgets) - 1, index + step))].focus()

    def action_next_field(self) -> None:
        """Focus the field below."""
        self._move(1)

    def action_previous_field(self) -> None:
        """Focus the field above."""
        self._move(-1)
