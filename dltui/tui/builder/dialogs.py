"""Small modal questions of the builder: a file name, and what to do about a conflict."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from dltui.safe_text import printable
from dltui.tui.commands import CHOICE, SAVE_AS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an experiment file name, or None when it can."""
    if not name:
        return "give a name"
    if not _NAME.match(name):
        return "letters, digits, '_', '-' and '.' only, not starting with '.' or '-'"
    return None


class SaveAsDialog(ModalScreen[Path | None]):
    """Asks for a name; returns ``experiments_dir/NAME.toml`` or None."""

    BINDINGS: ClassVar = SAVE_AS.bindings()

    def __init__(self, experiments_dir: Path, suggestion: str = "") -> None:
        super().__init__()
        self._dir = experiments_dir
        self._suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            where = printable(str(self._dir), keep_newlines=False)
            yield Label(Content(f"Save experiment as  {where}/NAME.toml"), classes="dialog-title")
            yield Input(value=self._suggestion, placeholder="NAME", id="save-name")
            yield Static("", id="save-error", classes="field-error")

    @on(Input.Changed, "#save-name")
    def _check(self, event: Input.Changed) -> None:
        problem = name_problem(event.value.strip().removesuffix(".toml"))
        error = self.query_one("#save-error", Static)
        error.update(Content(problem or ""))
        error.set_class(problem is not None and bool(event.value), "-shown")

    @on(Input.Submitted, "#save-name")
    def _submit(self, event: Input.Submitted) -> None:
        name = event.value.strip().removesuffix(".toml")
        problem = name_problem(name)
        if problem is not None:
            error = self.query_one("#save-error", Static)
            error.update(Content(problem))
            error.add_class("-shown")
            return
        self.dismiss(self._dir / f"{name}.toml")

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """A question with a few buttons; returns the chosen button's id or None."""

    BINDINGS: ClassVar = CHOICE.bindings()

    def __init__(self, title: str, message: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # Messages name files and paths: shown as text, never as markup.
            yield Label(
                Content(printable(self._title, keep_newlines=False)), classes="dialog-title"
            )
            yield Static(Content(printable(self._message)), classes="dialog-message")
            with Horizontal(classes="dialog-buttons"):
                for choice_id, label in self._choices:
                    yield Button(label, id=choice_id)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
