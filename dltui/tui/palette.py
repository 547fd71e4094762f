"""The command palette (ctrl+p): the same commands as the keys, found by name.

`DashboardCommands` offers the commands of the screen the palette was opened
on (its scope in `dltui.tui.commands`), the app's, and one entry per theme
that passed the theme check.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from dltui.safe_text import printable
from dltui.tui.commands import APP, Command, scope_of

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from dltui.tui.app import DashboardApp

Entry = tuple[str, str, "DOMNode", str]
"""(title, help, where the action runs, action)."""


def _run(target: DOMNode, action: str) -> None:
    # ``run_action`` resolves the action on the screen first, then the app.
    if isinstance(target, App):
        target.call_next(target.run_action, action)
    else:
        app = target.app
        app.call_next(app.run_action, action, target)


class DashboardCommands(Provider):
    """Command-palette entries for the screen's commands, the app's, and each theme."""

    def _entries(self) -> list[Entry]:
        screen = self.screen
        app = cast("DashboardApp", self.app)  # this provider is the dashboard's alone
        from dltui.tui.screens.help import key_label

        entries: list[Entry] = []
        keymap = app.active_keymap
        scope = scope_of(screen)

        def described(command: Command) -> str:
            # The key first, as the help screen writes it (remaps included): the palette
            # is also where people learn the keys.
            return f"{key_label(command, keymap)} · {command.help}"

        for command in scope.commands if scope is not None else ():
            if command.palette and screen.check_action(command.action, ()) is not False:
                entries.append((command.title, described(command), screen, command.action))
        for command in APP.commands:
            entries.append((command.title, described(command), app, command.action))
        # Only themes that passed the theme check (see `DashboardApp.offered_themes`).
        for name in app.offered_themes:
            shown = printable(name, keep_newlines=False)
            action = f"set_theme({name!r})"
            entries.append((f"Theme: {shown}", f"Switch to the {shown} theme.", app, action))
        # The palette renders help as markup: "[sweep]" in a command's help is text.
        return [
            (title, escape(help_text), target, action)
            for title, help_text, target, action in entries
        ]

    async def discover(self) -> Hits:
        """Everything, before the user types."""
        for title, help_text, target, action in self._entries():
            if not title.startswith("Theme: "):
                yield DiscoveryHit(title, partial(_run, target, action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose title matches ``query``, best first."""
        matcher = self.matcher(query)
        for title, help_text, target, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(_run, target, action),
                    text=title,
                    help=help_text,
                )
