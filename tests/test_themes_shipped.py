"""The shipped themes and those in themes/ (the user's folder) load and pass the style check."""

from __future__ import annotations

from pathlib import Path

from textual.theme import BUILTIN_THEMES

from dltui.tui.theme_check import dashboard_probe
from dltui.tui.themes import BUILTIN_THEMES_DIR, load_themes

ROOT = Path(__file__).resolve().parent.parent


def test_project_and_builtin_themes_load_cleanly() -> None:
    loaded = load_themes(BUILTIN_THEMES_DIR, ROOT / "themes", check=dashboard_probe().problems)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    names = {theme.name for theme in loaded.themes}
    assert {
        "solarized-dark",
        "high-contrast",
        "dltui-midnight",
        "dltui-paper",
        "dltui-ember",
        "dltui-terminal",
    } <= names


def test_textual_themes_pass_the_check_except_the_ansi_ones() -> None:
    # Textual's ansi themes write muted colours as "ansi_default 50%", which the plots
    # cannot read as a colour: they are not offered (dltui-terminal is the ansi theme).
    probe = dashboard_probe()
    for name, theme in BUILTIN_THEMES.items():
        problems = probe.problems(theme, Path(name))
        if theme.ansi:
            assert any("foreground-muted" in str(p) for p in problems), name
        else:
            assert not problems, name
