"""KeyFooter: the keys that matter on a screen, drawn as one line of text.

Textual's `Footer` is a container with a widget per key (a dozen on the
browser) and recomposes all of them whenever its screen's bindings are
refreshed: on every focus change, every change of the screen stack and every
``refresh_bindings`` call. Each widget costs a few milliseconds to mount, style
and paint, which showed in the time to first paint and to open a run view. This
footer is one widget: it repaints itself (no layout) only when the keys it
shows, their labels, or which of them are enabled changed. A click on a key
presses it, as in Textual's footer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from textual import events
from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

_KEY_STYLE = "bold $footer-key-foreground on $footer-key-background"
_DESCRIPTION_STYLE = "$footer-description-foreground on $footer-description-background"


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool


class KeyFooter(Widget):
    """Keys of the current screen (and the app), with the command palette's key on the right."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """A footer for the screen it is mounted on."""
        super().__init__(id=id, classes=classes)
        self._shown: tuple[tuple[FooterEntry, ...], FooterEntry | None] | None = None
        self._spans: list[tuple[int, int, FooterEntry]] = []
        self.repaints = 0
        """How many times the keys shown changed (tests read it)."""

    def on_mount(self) -> None:
        """Follow the screen's binding refreshes."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        """Stop following them."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and self.entries() != self._shown:
            self.refresh()

    def entries(self) -> tuple[tuple[FooterEntry, ...], FooterEntry | None]:
        """The keys shown (one per action, in binding order) and the command palette's key."""
        app = self.app
        keys: list[FooterEntry] = []
        actions: set[str] = set()
        palette: FooterEntry | None = None
        for key, (_, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            entry = FooterEntry(binding.key, app.get_key_display(binding), binding.description,
                                enabled)  # fmt: skip
            if app.ENABLE_COMMAND_PALETTE and key == app.COMMAND_PALETTE_BINDING:
                palette = entry
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(entry)
        return tuple(keys), palette

    def render(self) -> Content:
        """``key description`` pairs from the left, the palette's key at the right edge."""
        shown = self.entries()
        if shown != self._shown:
            self._shown = shown
            self.repaints += 1
        keys, palette = shown
        width = self.size.width
        # Too many keys for the width: drop the padding around each key before cutting.
        compact = sum(len(e.display) + len(e.description) + 3 for e in keys) > width
        parts: list[Content] = []
        self._spans = []
        column = 0
        for entry in keys:
            part = _entry_content(entry, compact)
            parts.append(part)
            self._spans.append((column, column + part.cell_length, entry))
            column += part.cell_length
        line = Content.assemble(*parts)
        if palette is not None:
            right = _entry_content(palette, compact)
            gap = width - line.cell_length - right.cell_length
            if gap >= 1:
                start = line.cell_length + gap
                self._spans.append((start, start + right.cell_length, palette))
                line = Content.assemble(line, " " * gap, right)
        return line

    def entry_at(self, x: int) -> FooterEntry | None:
        """The key drawn at column ``x``, if any."""
        for start, end, entry in self._spans:
            if start <= x < end:
                return entry
        return None

    def on_click(self, event: events.Click) -> None:
        """Press the clicked key (a bell when it is disabled here)."""
        entry = self.entry_at(event.x)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()


def _entry_content(entry: FooterEntry, compact: bool) -> Content:
    key = Content.styled(entry.display if compact else f" {entry.display} ", _KEY_STYLE)
    description = f" {entry.description} " if compact else f"{entry.description} "
    text = Content.styled(description, _DESCRIPTION_STYLE)
    content = Content.assemble(key, text)
    return content.stylize("dim") if not entry.enabled else content
