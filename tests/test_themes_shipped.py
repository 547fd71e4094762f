"""The theme files in themes/ (the user's folder) load without a problem."""

from __future__ import annotations

from pathlib import Path

from dltui.tui.themes import BUILTIN_THEMES_DIR, load_themes

ROOT = Path(__file__).resolve().parent.parent


def test_project_and_builtin_themes_load_cleanly() -> None:
    loaded = load_themes(BUILTIN_THEMES_DIR, ROOT / "themes")
    assert not loaded.problems, [str(p) for p in loaded.problems]
    names = {theme.name for theme in loaded.themes}
    assert {"solarized-dark", "high-contrast", "dltui-midnight"} <= names
