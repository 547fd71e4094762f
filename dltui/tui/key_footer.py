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

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from textual import events
from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen

_KEY_STYLE = "bold $footer-key-foreground on $footer-key-background"
_DESCRIPTION_STYLE = "$footer-description-foreground on $footer-description-background"


@runtime_checkable
class HidesFooterKeys(Protocol):
    """A screen that leaves some of its keys out of the footer while they do not apply."""

    def footer_hidden_actions(self) -> frozenset[str]:
        """The actions whose keys the footer leaves out now."""
        ...


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    action: str = ""


_HELP_ACTIONS = frozenset({"help", "app.help"})
"""The actions of the help keys (`dltui.tui.commands`: the app's and the builder's)."""

_SELECTING_ACTIONS = frozenset({"select_cursor", "select"})
"""Hidden actions of a focused list (a table's, an option list's ``enter``) that only post
a selection, which the screen answers with its own command (the browser's "enter Open")."""

MAX_LINES = 2
"""The footer takes a second line before it leaves keys out."""


class KeyFooter(Widget):
    """Keys of the current screen (and the app), with the command palette's key on the right.

    Every label is shown whole: when the keys do not fit on one line they are drawn
    tighter, then on two lines, and only then are the last ones left out — never the
    help key, which lists them all.
    """

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: auto;
        max-height: 2;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """A footer for the screen it is mounted on."""
        super().__init__(id=id, classes=classes)
        self._shown: tuple[tuple[FooterEntry, ...], FooterEntry | None] | None = None
        self._spans: list[tuple[int, int, int, FooterEntry]] = []
        """(row, first column, end column, entry) of each key drawn."""
        self._line_count = 1
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
            lines = len(self._lay_out(self.entries(), self.size.width or 80)[0])
            self.refresh(layout=lines != self._line_count)

    def entries(self) -> tuple[tuple[FooterEntry, ...], FooterEntry | None]:
        """The keys shown (one per action, in binding order) and the command palette's key."""
        app = self.app
        keys: list[FooterEntry] = []
        actions: set[str] = set()
        palette: FooterEntry | None = None
        # A screen may leave out keys that do not apply to what is in view right now.
        screen = self.screen
        hidden = screen.footer_hidden_actions() if isinstance(screen, HidesFooterKeys) else None
        active = screen.active_bindings
        # A screen command whose key a focused list's hidden "select" shadows is shown in
        # the list's place, unless another of its keys shows it already (the builder's e).
        shown_actions = {item.binding.action for item in active.values() if item.binding.show}
        for key, (node, binding, enabled, _tooltip) in active.items():
            if not binding.show and binding.action in _SELECTING_ACTIONS and node is not screen:
                own = _shown_binding(screen, key)
                if own is not None and own.action not in shown_actions:
                    binding = own
            if hidden and binding.action.partition("(")[0] in hidden:
                continue
            entry = FooterEntry(
                binding.key,
                app.get_key_display(binding),
                binding.description,
                enabled,
                binding.action,
            )
            if app.ENABLE_COMMAND_PALETTE and key == app.COMMAND_PALETTE_BINDING:
                palette = entry
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(entry)
        return tuple(keys), palette

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        """As many lines as the keys need at ``width`` (one or two)."""
        return len(self._lay_out(self.entries(), width)[0])

    def render(self) -> Content:
        """``key description`` pairs from the left, the palette's key at the right edge."""
        shown = self.entries()
        if shown != self._shown:
            self._shown = shown
            self.repaints += 1
        lines, spans = self._lay_out(shown, self.size.width)
        self._spans = spans
        self._line_count = len(lines)
        return Content("\n").join(lines)

    def _lay_out(
        self, shown: tuple[tuple[FooterEntry, ...], FooterEntry | None], width: int
    ) -> tuple[list[Content], list[tuple[int, int, int, FooterEntry]]]:
        """The footer's lines and where each key landed, for ``width`` cells."""
        keys, palette = shown
        width = max(1, width)
        roomy = sum(_entry_width(e, compact=False) for e in keys)
        compact = roomy > width
        keep = list(keys)
        rows = _pack(keep, width, compact)
        while len(rows) > MAX_LINES:
            # Leave out the last key that is not the help key, until two lines hold them.
            droppable = [i for i, e in enumerate(keep) if not _is_help(e)]
            if not droppable:
                break
            del keep[droppable[-1]]
            rows = _pack(keep, width, compact)
        lines: list[Content] = []
        spans: list[tuple[int, int, int, FooterEntry]] = []
        for row, entries in enumerate(rows[:MAX_LINES]):
            parts: list[Content] = []
            column = 0
            for entry in entries:
                part = _entry_content(entry, compact)
                parts.append(part)
                spans.append((row, column, column + part.cell_length, entry))
                column += part.cell_length
            lines.append(Content.assemble(*parts))
        if not lines:
            lines.append(Content(""))
        if palette is not None:
            right = _entry_content(palette, compact)
            last = lines[-1]
            gap = width - last.cell_length - right.cell_length
            if gap >= 1:
                start = last.cell_length + gap
                spans.append((len(lines) - 1, start, start + right.cell_length, palette))
                lines[-1] = Content.assemble(last, " " * gap, right)
        return lines, spans

    def entry_at(self, x: int, y: int = 0) -> FooterEntry | None:
        """The key drawn at column ``x`` of line ``y``, if any."""
        for row, start, end, entry in self._spans:
            if row == y and start <= x < end:
                return entry
        return None

    def on_click(self, event: events.Click) -> None:
        """Press the clicked key (a bell when it is disabled here)."""
        entry = self.entry_at(event.x, event.y)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()


def _shown_binding(screen: Screen[Any], key: str) -> Binding | None:
    """The screen's own footer binding of ``key``, which a focused list's hidden one shadows."""
    for binding in screen._bindings.key_to_bindings.get(key, ()):
        if binding.show:
            return binding
    return None


def _is_help(entry: FooterEntry) -> bool:
    # The help key is never left out: the help screen lists every key.
    return entry.action in _HELP_ACTIONS


def _entry_width(entry: FooterEntry, compact: bool) -> int:
    return _entry_content(entry, compact).cell_length


def _pack(entries: list[FooterEntry], width: int, compact: bool) -> list[list[FooterEntry]]:
    """Entries in rows of at most ``width`` cells, in order; a key is never split."""
    rows: list[list[FooterEntry]] = [[]]
    used = 0
    for entry in entries:
        size = _entry_width(entry, compact)
        if rows[-1] and used + size > width:
            rows.append([])
            used = 0
        rows[-1].append(entry)
        used += size
    return rows if rows[0] else []


def _entry_content(entry: FooterEntry, compact: bool) -> Content:
    key = Content.styled(entry.display if compact else f" {entry.display} ", _KEY_STYLE)
    description = f" {entry.description} " if compact else f"{entry.description} "
    text = Content.styled(description, _DESCRIPTION_STYLE)
    content = Content.assemble(key, text)
    return content.stylize("dim") if not entry.enabled else content
