"""KeyFooter: Textual's footer, rebuilt only when the keys it shows changed.

Textual's `Footer` recomposes all its keys whenever its screen's bindings are
refreshed: on every focus change, every change of the screen stack (also for
a screen hidden under another), and every ``refresh_bindings`` call, even when
the keys it shows are the same. Each recompose mounts a dozen widgets and lays
the screen out again, which made opening a run view noticeably slower. This
footer waits until its screen is the one shown, folds a burst of refreshes
into one, and skips the rebuild when the keys, their labels and which of them
are enabled did not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyFooter(Footer):
    """A `textual.widgets.Footer` that recomposes only when what it shows changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Takes the same arguments as `textual.widgets.Footer`."""
        super().__init__(*args, **kwargs)
        self._pending = False
        self._shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Schedule one rebuild for a burst of binding refreshes on this footer's screen."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._pending = False
        if not self.is_attached or not self.screen.is_current:
            # Hidden under another screen: it is refreshed again when shown.
            self._shown = None
            return
        shown = self._signature()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()

    def _signature(self) -> tuple[Any, ...]:
        """What the footer would show: each key, its label and whether it is enabled."""
        display = self.app.get_key_display
        keys = tuple(
            (
                binding.key,
                display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip,
                binding.group,
            )
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        return (keys, self.compact, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)
