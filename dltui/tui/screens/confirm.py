"""A yes/no question before something that cannot be undone (deleting runs)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from dltui.tui.commands import CONFIRM


class ConfirmDialog(ModalScreen[bool]):
    """Asks ``title`` with ``message`` below; returns True when confirmed.

    ``y`` or enter confirms, ``n`` or escape cancels (the buttons do the same with
    the mouse). ``message`` is plain text, shown as it is.
    """

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
        background: $background 60%;

        .dialog {
            width: 72;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: round $error;
            background: $surface;
            padding: 1 2;
        }
        .dialog-title { text-style: bold; margin-bottom: 1; }
        .dialog-message { margin-bottom: 1; }
        .dialog-buttons { height: auto; align-horizontal: right; }
        .dialog-buttons Button { margin-left: 1; }
    }
    """

    BINDINGS: ClassVar = CONFIRM.bindings()

    def __init__(self, title: str, message: str, confirm: str = "Yes") -> None:
        """``confirm`` labels the button that says yes (``Delete``)."""
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm

    def compose(self) -> ComposeResult:
        """Title, message, and the two buttons (not focusable: the keys answer)."""
        with Vertical(classes="dialog"):
            yield Label(escape(self.title_text), classes="dialog-title", id="confirm-title")
            yield Static(self.message, classes="dialog-message", id="confirm-message",
                         markup=False)  # fmt: skip
            with Horizontal(classes="dialog-buttons"):
                yes = Button(f"{self.confirm_label} (y)", variant="error", id="confirm-yes")
                no = Button("Cancel (n)", id="confirm-no")
                # With a button focused, enter would press that button, whichever it is.
                yes.can_focus = no.can_focus = False
                yield yes
                yield no

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        """Answer no."""
        self.dismiss(False)
