"""`?`: every key of the screen underneath and of the app, from the table of commands."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from dltui.safe_text import printable
from dltui.tui.commands import APP, HELP, Command, scope_of

_KEY_WORDS = {"enter": "enter", "escape": "esc", "space": "space", "tab": "tab"}
"""Keys written as words rather than Textual's glyphs (``⏎`` reads less well than ``enter``)."""


def key_glyph(key: str) -> str:
    """One key as printed on the keyboard: ``comma`` -> ``,``, ``shift+left`` -> ``shift+←``."""
    *modifiers, last = key.strip().split("+")
    shown = _KEY_WORDS.get(last) or format_key(last)
    return "+".join([*modifiers, shown])


def key_label(command: Command, keymap: Mapping[str, str] | None = None) -> str:
    """The keys of ``command`` as a person types them (``S``, ``ctrl+t``, ``[``, ``←``).

    ``keymap`` (binding id -> keys) holds the user's remaps, which replace the defaults.
    """
    remapped = keymap.get(command.id) if keymap else None
    keys = [key_glyph(k) for k in (remapped or command.key).split(",") if k.strip()]
    return " / ".join(keys)


def help_text(
    screen_title: str,
    commands: tuple[Command, ...],
    keymap: Mapping[str, str] | None = None,
    *,
    width: int | None = None,
) -> Content:
    """The help: the screen's keys, then the app's (as ``keymap`` remaps them).

    Key labels and remaps go in as text, never as markup: ``[`` is a key here.
    With ``width``, each line is wrapped to it, under its own text (the keys'
    column stays clear).
    """
    keys = max([10, *(len(key_label(c, keymap)) for c in (*commands, *APP.commands))])
    rows: list[Content] = [_title(screen_title, width)]
    rows += [_row(key_label(c, keymap), c.help, keys, width) for c in commands]
    rows += [Content(""), _title(APP.title, width)]
    rows += [_row(key_label(c, keymap), c.help, keys, width) for c in APP.commands]
    rows.append(_row("ctrl+p", "Command palette: every command, by name.", keys, width))
    rows.append(_row("↑ ↓ pgup", "Move; mouse works too, but is never needed.", keys, width))
    return Content("\n").join(rows)


def _title(text: str, width: int | None) -> Content:
    lines = _wrap(printable(text, keep_newlines=False), width)
    return Content("\n").join(Content.styled(line, "bold $primary") for line in lines)


def _row(keys: str, text: str, key_width: int, width: int | None) -> Content:
    indent = 2 + key_width + 1
    lines = _wrap(printable(text, keep_newlines=False), None if width is None else width - indent)
    first = Content.assemble(
        "  ", (printable(keys, keep_newlines=False).ljust(key_width), "bold"), " ", lines[0]
    )
    return Content("\n").join([first, *(Content(" " * indent + line) for line in lines[1:])])


def _wrap(text: str, width: int | None) -> list[str]:
    if width is None or width < 20:
        return [text]
    return textwrap.wrap(text, width) or [""]


class HelpScreen(ModalScreen[None]):
    """A modal list of every key; escape or ? closes it."""

    CSS_PATH = "help.tcss"
    SCOPE = HELP
    BINDINGS: ClassVar = HELP.bindings()

    def __init__(self, screen: Screen[Any], keymap: Mapping[str, str] | None = None) -> None:
        """The keys of ``screen`` (its scope in the table) and the app's, as ``keymap``
        (binding id -> keys: the user's remaps) changes them."""
        super().__init__()
        self.for_screen = screen
        self.keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        """The key list, scrollable on small terminals."""
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc to close"
            yield Static(self._text(), id="help-body")

    def _text(self) -> Content:
        scope = scope_of(self.for_screen)
        commands = scope.commands if scope is not None else ()
        title = scope.title if scope is not None else type(self.for_screen).__name__
        # The box takes at most 90% of the terminal, less its border, padding and scrollbar:
        # lines wrap there rather than run past the edge.
        width = max(30, int(self.app.size.width * 0.9) - 2 - 4 - 2)
        return help_text(title, commands, self.keymap, width=width)

    def on_resize(self) -> None:
        """Wrap the lines to the new width."""
        self.query_one("#help-body", Static).update(self._text())
