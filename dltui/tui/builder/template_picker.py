"""`n`: a new experiment from one of the shipped templates, with its name and description.

One modal: the templates, each with a line saying what it is; below, the new
experiment's name (its file, ``experiments/NAME.toml``) and its description.
Enter moves on (list → name → description → create), escape cancels.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from dltui.builder.templates import template_text, templates
from dltui.tui.builder.dialogs import name_problem
from dltui.tui.commands import TEMPLATE


@dataclass(frozen=True)
class NewExperiment:
    """What the person chose: the template, and the new experiment's name and description."""

    template: str
    name: str
    description: str

    def path(self, experiments_dir: Path) -> Path:
        """The file the experiment will be saved as."""
        return experiments_dir / f"{self.name}.toml"


def template_description(name: str) -> str:
    """The ``description`` field of template ``name`` (empty when it has none)."""
    try:
        value = tomllib.loads(template_text(name)).get("description", "")
    except (KeyError, tomllib.TOMLDecodeError):
        return ""
    return value if isinstance(value, str) else ""


def free_name(experiments_dir: Path, base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` ...: the first name no file in the folder has."""
    name, number = base, 1
    while (experiments_dir / f"{name}.toml").exists():
        number += 1
        name = f"{base}-{number}"
    return name


def template_prompt(name: str, line: str) -> Group:
    """A template's name, and under it its description, which wraps under itself (indented,
    not back at the name's edge)."""
    return Group(Text(name, style="bold"), Padding(Text(line, style="dim"), (0, 0, 0, 2)))


class TemplatePicker(ModalScreen[NewExperiment | None]):
    """Choose a template, then name and describe the new experiment."""

    BINDINGS: ClassVar = TEMPLATE.bindings()

    def __init__(self, experiments_dir: Path) -> None:
        super().__init__()
        self.experiments_dir = Path(experiments_dir)
        self._templates = templates()

    def compose(self) -> ComposeResult:
        """The list of templates, then the name and description inputs."""
        with Vertical(id="template-picker", classes="dialog"):
            yield Label("New experiment from a template", classes="dialog-title")
            options = [Option(template_prompt(n, line), id=n) for n, line in self._templates]
            yield OptionList(*options, id="template-list")
            yield Label("Name (saved as experiments/NAME.toml)", classes="field-label")
            yield Input(id="new-name", placeholder="NAME", compact=True)
            yield Static("", id="new-name-error", classes="field-error")
            yield Label("Description", classes="field-label")
            yield Input(id="new-description", placeholder="what it is for", compact=True)
            yield Static(
                "enter: next · escape: cancel · the builder opens on the new experiment",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        """Highlight the first template and show its defaults."""
        options = self.query_one("#template-list", OptionList)
        options.highlighted = 0
        options.focus()
        self._show_defaults()

    @property
    def template(self) -> str:
        """The highlighted template's name."""
        options = self.query_one("#template-list", OptionList)
        index = options.highlighted or 0
        return self._templates[index][0]

    def _show_defaults(self) -> None:
        """Put the highlighted template's name and description in the inputs."""
        self.query_one("#new-name", Input).value = free_name(self.experiments_dir, self.template)
        self.query_one("#new-description", Input).value = template_description(self.template)

    @on(OptionList.OptionHighlighted, "#template-list")
    def _highlighted(self) -> None:
        self._show_defaults()

    @on(OptionList.OptionSelected, "#template-list")
    def _selected(self) -> None:
        self.query_one("#new-name", Input).focus()

    @on(Input.Changed, "#new-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self._show_name_problem(event.value)

    def _show_name_problem(self, value: str) -> str | None:
        name = value.strip().removesuffix(".toml")
        problem = name_problem(name)
        if problem is None and (self.experiments_dir / f"{name}.toml").exists():
            problem = f"{name}.toml already exists: choose another name"
        error = self.query_one("#new-name-error", Static)
        error.update(Content(problem or ""))
        error.set_class(problem is not None, "-shown")
        return problem

    @on(Input.Submitted, "#new-name")
    def _name_submitted(self, event: Input.Submitted) -> None:
        if self._show_name_problem(event.value) is None:
            self.query_one("#new-description", Input).focus()

    @on(Input.Submitted, "#new-description")
    def _description_submitted(self) -> None:
        value = self.query_one("#new-name", Input).value
        if self._show_name_problem(value) is not None:
            self.query_one("#new-name", Input).focus()
            return
        description = self.query_one("#new-description", Input).value.strip()
        self.dismiss(NewExperiment(self.template, value.strip().removesuffix(".toml"), description))

    def action_move(self, step: int) -> None:
        """Move in the template list (j/k) while it has the focus."""
        options = self.query_one("#template-list", OptionList)
        if self.focused is not options:
            return
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        """Close without creating anything."""
        self.dismiss(None)
