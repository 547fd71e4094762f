"""`?`: every key of the screen underneath and of the app, from the same command list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from dltui.safe_text import printable
from dltui.tui.commands import APP_COMMANDS, HELP_COMMANDS, Command, bindings

_KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "escape": "esc",
    "space": "space",
    "enter": "enter",
    "tab": "tab",
    "shift+tab": "shift+tab",
}


def key_label(command: Command, keymap: Mapping[str, str] | None = None) -> str:
    """The keys of ``command`` as a person types them (``S``, ``ctrl+t``, ``[``).

    ``keymap`` (binding id -> keys) holds the user's remaps, which replace the defaults.
    """
    remapped = keymap.get(command.id) if keymap else None
    keys = [_KEY_NAMES.get(k.strip(), k.strip()) for k in (remapped or command.key).split(",")]
    return " / ".join(keys)


def help_text(
    screen_title: str, commands: tuple[Command, ...], keymap: Mapping[str, str] | None = None
) -> Content:
    """The help: the screen's keys, then the app's (as ``keymap`` remaps them).

    Key labels and remaps go in as text, never as markup: ``[`` is a key here.
    """
    width = max([10, *(len(key_label(c, keymap)) for c in (*commands, *APP_COMMANDS))])
    lines = [Content.from_markup("[b $primary]$title[/]", title=screen_title)]
    lines.extend(_rows(commands, keymap, width))
    lines.append(Content(""))
    lines.append(Content.from_markup("[b $primary]Everywhere[/]"))
    lines.extend(_rows(APP_COMMANDS, keymap, width))
    lines.append(_row("ctrl+p", "Command palette: every command, by name.", width))
    lines.append(_row("↑ ↓ pgup", "Move; mouse works too, but is never needed.", width))
    return Content("\n").join(lines)


def _row(keys: str, text: str, width: int) -> Content:
    return Content.assemble("  ", (printable(keys, keep_newlines=False).ljust(width), "bold"),
                            " ", printable(text, keep_newlines=False))  # fmt: skip


def _rows(
    commands: tuple[Command, ...], keymap: Mapping[str, str] | None, width: int
) -> list[Content]:
    return [_row(key_label(c, keymap), c.help, width) for c in commands]


class HelpScreen(ModalScreen[None]):
    """A modal list of every key; escape or ? closes it."""

    CSS_PATH = "help.tcss"
    COMMANDS_LIST = HELP_COMMANDS
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = bindings(
        HELP_COMMANDS
    )

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        """The key list, scrollable on small terminals."""
        commands: tuple[Command, ...] = getattr(self.for_screen, "COMMANDS_LIST", ())
        title = getattr(self.for_screen, "HELP_TITLE", type(self.for_screen).__name__)
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc to close"
            keymap = getattr(self.app, "active_keymap", None)
            yield Static(help_text(title, commands, keymap), id="help-body")
