"""Themes as data: TOML files converted to Textual themes.

A theme file holds the `textual.theme.Theme` fields at the top level and an
optional ``[variables]`` table of extra CSS variables::

    name = "dltui-midnight"
    dark = true
    primary = "#7aa2f7"
    background = "#1a1b26"

    [variables]
    "footer-key-foreground" = "#7aa2f7"

Nothing in a theme file is executed, and files are read within limits
(`dltui.bounded`). A bad file never stops the others from loading: every
problem is collected as a `ThemeProblem` naming the file and the field, for the
app to report once. `load_themes` takes a ``check`` (the app passes
`dltui.tui.theme_check.StyleProbe.problems`) that a theme must also pass: a
file that fails it is reported and does not replace a same-named theme before it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from dltui.bounded import FileLimitError, loads_toml, read_text_limited
from dltui.safe_text import printable

BUILTIN_THEMES_DIR = Path(__file__).parent / "themes"
"""The themes that ship with dltui."""

DEFAULT_THEME = "dltui-midnight"
"""The theme the dashboard starts with."""

DEFAULT_THEME_FILE = BUILTIN_THEMES_DIR / "midnight.toml"
"""The shipped file of `DEFAULT_THEME`."""

ThemeCheck = Callable[[Theme, Path], "list[ThemeProblem]"]
"""Why a theme read from a file cannot be used (empty when it can)."""

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_FLOAT_FIELDS = ("luminosity_spread", "text_alpha")
_BOOL_FIELDS = ("dark", "ansi")
_KNOWN_FIELDS = {"name", "variables", *_BOOL_FIELDS, *_COLOR_FIELDS, *_FLOAT_FIELDS}


@dataclass(frozen=True)
class ThemeProblem:
    """One thing wrong with a theme file."""

    file: Path
    field: str
    """The key at fault, e.g. ``primary`` or ``variables.<name>``; empty for the whole file."""
    message: str

    def __str__(self) -> str:
        where = f"{self.file.name}: {self.field}: " if self.field else f"{self.file.name}: "
        # File names, keys and quoted values come from the file: never let them steer a terminal.
        return printable(where + self.message, keep_newlines=False)


@dataclass(frozen=True)
class LoadedThemes:
    """Every theme that loaded, and every problem found on the way."""

    themes: list[Theme]
    problems: list[ThemeProblem]
    sources: dict[str, Path]
    """Theme name -> the file it came from."""


def theme_from_toml(path: Path) -> Theme:
    """Read one theme file; raises `ThemeFileError` listing every problem."""
    try:
        raw = loads_toml(read_text_limited(path), source=path.name)
    except FileLimitError as exc:
        # The message starts with the path (or the file name): keep only what follows it.
        message = str(exc)
        for prefix in (f"{path}: ", f"{path.name}: "):
            message = message.removeprefix(prefix)
        raise ThemeFileError([ThemeProblem(path, "", message)]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError([ThemeProblem(path, "", f"not valid TOML: {exc}")]) from None
    return theme_from_dict(raw, path)


def theme_from_dict(raw: dict[str, Any], path: Path) -> Theme:
    """Validate the parsed table ``raw`` of the file ``path`` into a `Theme`."""
    problems: list[ThemeProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(ThemeProblem(path, field, message))

    for key in sorted(set(raw) - _KNOWN_FIELDS):
        bad(key, f"unknown key; expected one of: {', '.join(sorted(_KNOWN_FIELDS))}")
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        bad("name", f"expected a non-empty string, got {name!r}")
        name = path.stem
    if "primary" not in raw:
        bad("primary", "required, but missing")
    colors: dict[str, str] = {}
    for field in _COLOR_FIELDS:
        if field in raw:
            value = raw[field]
            if _check_color(value, field, bad):
                colors[field] = value
    flags = {"dark": True, "ansi": False}
    for field in _BOOL_FIELDS:
        value = raw.get(field, flags[field])
        if isinstance(value, bool):
            flags[field] = value
        else:
            bad(field, f"expected true or false, got {value!r}")
    floats: dict[str, float] = {}
    for field in _FLOAT_FIELDS:
        if field in raw:
            value = raw[field]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                bad(field, f"expected a number from 0 to 1, got {value!r}")
            else:
                floats[field] = float(value)
    variables: dict[str, str] = {}
    table = raw.get("variables", {})
    if not isinstance(table, dict):
        bad("variables", "expected a table of CSS variable names to values")
        table = {}
    for key, value in table.items():
        if not isinstance(value, str):
            bad(f"variables.{key}", f"expected a string, got {value!r}")
        else:
            variables[key] = value
    if problems:
        raise ThemeFileError(problems)
    return Theme(
        name=name.strip(),
        dark=flags["dark"],
        ansi=flags["ansi"],
        variables=variables,
        **colors,  # type: ignore[arg-type]
        **floats,  # type: ignore[arg-type]
    )


def _check_color(value: Any, field: str, bad: Any) -> bool:
    if not isinstance(value, str):
        bad(field, f'expected a colour string like "#1a1b26", got {value!r}')
        return False
    try:
        Color.parse(value)
    except ColorParseError:
        bad(field, f'not a colour: {value!r} (use e.g. "#1a1b26" or "rgb(26,27,38)")')
        return False
    return True


class ThemeFileError(Exception):
    """A theme file is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[ThemeProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_themes(*folders: Path, check: ThemeCheck | None = None) -> LoadedThemes:
    """Load every ``*.toml`` in ``folders``, in order; later files override a same-named theme.

    With ``check``, a theme is taken only when it passes it too; one that fails
    is reported and leaves an earlier same-named theme in place.
    """
    themes: dict[str, Theme] = {}
    sources: dict[str, Path] = {}
    problems: list[ThemeProblem] = []
    for folder in folders:
        try:
            paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError:
            continue
        for path in paths:
            try:
                theme = theme_from_toml(path)
            except ThemeFileError as exc:
                problems.extend(exc.problems)
                continue
            failures = check(theme, path) if check is not None else []
            if failures:
                problems.extend(failures)
                continue
            themes[theme.name] = theme
            sources[theme.name] = path
    return LoadedThemes(list(themes.values()), problems, sources)


def problems_report(problems: list[ThemeProblem], limit: int = 6) -> str:
    """One notification's text for ``problems`` (the first ``limit`` of them)."""
    lines = [str(p) for p in problems[:limit]]  # plain text: show it with markup off
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)
