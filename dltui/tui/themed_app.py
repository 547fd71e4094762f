"""ThemedApp: an app whose themes come from files, offered only once they passed a check.

It starts in the shipped default theme, set before the first style pass so the
first paint already uses it. After the first paint (`reload_themes`) every
theme file — the shipped ones, the user's folder, Textual's own themes — is
read and checked on a worker (`dltui.tui.theme_check`): only the themes that
pass are offered (ctrl+t, the palette); a file that fails is reported once, in
one notification naming file and field, and a theme in use keeps its last good
version.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App

from dltui.safe_text import printable
from dltui.tui.messages import ThemesChecked
from dltui.tui.themes import (
    BUILTIN_THEMES_DIR,
    DEFAULT_THEME,
    DEFAULT_THEME_FILE,
    load_themes,
    problems_report,
)


class ThemedApp(App[int]):
    """The dashboard's theme handling (see the module's docstring)."""

    def __init__(self, themes_dir: Path) -> None:
        """Themes from the shipped folder and from ``themes_dir`` (the user's)."""
        super().__init__()
        self.themes_dir = themes_dir
        self._theme_problems_shown: set[str] = set()
        self._theme_generation = 0
        self._themes_applied = -1  # checked first after the first paint
        self.theme_sources: dict[str, Path] = {}
        """Theme name -> the file it came from (themes from files only)."""
        self.offered_themes: list[str] = []
        """The themes ctrl+t and the palette offer: those that passed the check."""
        self._start_with_default_theme()

    def _start_with_default_theme(self) -> None:
        """Start in the shipped default theme (checked by the test suite, not yet here).

        Every theme file, this one and a user's file of the same name included, is
        checked after the first paint (`reload_themes`); until then it is the only
        theme offered.
        """
        from dltui.tui.themes import ThemeFileError, theme_from_toml

        try:
            theme = theme_from_toml(DEFAULT_THEME_FILE)
        except ThemeFileError:
            self.theme = "textual-dark"
            self.offered_themes = ["textual-dark"]
            return
        self.register_theme(theme)
        self.theme = theme.name
        self.offered_themes = [theme.name]

    @property
    def themes_checked(self) -> bool:
        """Whether the latest reading of the theme files has been checked and applied."""
        return self._themes_applied == self._theme_generation

    def reload_themes(self) -> None:
        """Read and check the shipped themes and the user's theme folder, on a worker.

        A theme is offered (ctrl+t, the palette) only once it passed the check; a
        file that fails is reported once, and the theme in use stays as it was.
        """
        self._theme_generation += 1
        self._check_theme_files(self._theme_generation)

    @work(thread=True, exclusive=True, group="themes", exit_on_error=False)
    def _check_theme_files(self, generation: int) -> None:
        from textual.theme import BUILTIN_THEMES

        from dltui.tui.theme_check import dashboard_probe

        probe = dashboard_probe()  # imports every screen once: never before the first paint
        loaded = load_themes(BUILTIN_THEMES_DIR, self.themes_dir, check=probe.problems)
        textual_ok = [
            name
            for name, theme in BUILTIN_THEMES.items()
            if not probe.problems(theme, Path(f"textual:{name}"))
        ]
        self.post_message(ThemesChecked(generation, loaded, textual_ok))

    @on(ThemesChecked)
    def _themes_checked(self, message: ThemesChecked) -> None:
        from textual.theme import BUILTIN_THEMES

        if message.generation != self._theme_generation:
            return  # the files changed again: a newer check is on its way
        self._themes_applied = message.generation
        loaded = message.loaded
        before = self.current_theme
        bad_files = {problem.file for problem in loaded.problems}
        # A file that turned bad keeps its last good version, not an older same-named one.
        sources = {name: path for name, path in self.theme_sources.items() if path in bad_files}
        for theme in loaded.themes:
            if theme.name not in sources:
                self.register_theme(theme)
                sources[theme.name] = loaded.sources[theme.name]
        for name in self.theme_sources.keys() - sources.keys():
            self.unregister_theme(name)  # its file is gone, or now names another theme
        for name, theme in BUILTIN_THEMES.items():
            if name in sources:
                continue
            if name in message.textual_ok:
                self.register_theme(theme)
            else:
                self.unregister_theme(name)
        self.theme_sources = sources
        self.offered_themes = sorted(set(sources) | set(message.textual_ok))
        if self.theme not in self.offered_themes:
            fallback = DEFAULT_THEME if DEFAULT_THEME in self.offered_themes else "textual-dark"
            self.theme = fallback
        elif self.current_theme != before:
            # The theme in use was re-read (an edit, or the user's version of the default).
            self.refresh_css(animate=False)
            self.call_next(self.theme_changed_signal.publish, self.current_theme)
        fresh = [p for p in loaded.problems if str(p) not in self._theme_problems_shown]
        if fresh:
            self._theme_problems_shown.update(str(p) for p in fresh)
            self.notify(
                problems_report(fresh), title="Theme file problems", severity="error",
                timeout=10, markup=False,
            )  # fmt: skip

    def action_next_theme(self) -> None:
        """Cycle through the themes offered (those that passed the check)."""
        names = list(self.offered_themes)
        if not self.themes_checked and len(names) < 2:
            self.notify("The theme files are still being checked.", timeout=2)
            return
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"Theme: {printable(self.theme, keep_newlines=False)}", timeout=2,
                    markup=False)  # fmt: skip

    def action_set_theme(self, name: str) -> None:
        """Switch to the theme called ``name``, if it is offered."""
        if name in self.offered_themes:
            self.theme = name
