"""DashboardScreen: a screen of the dashboard app, which it reads through one typed property."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from dltui.tui.app import DashboardApp


class DashboardScreen(Screen[None]):
    """A screen that lives in `DashboardApp` (the browser, the run and compare views).

    ``dashboard`` is the app with its type, so what a screen reads of it (the runs
    it launched, its clock, how often to follow a run) is checked by mypy.
    """

    @property
    def dashboard(self) -> DashboardApp:
        """The app, as the dashboard it is (these screens are pushed by it alone)."""
        return cast("DashboardApp", self.app)
