"""Whether a theme can style every screen of the dashboard, found before it is offered.

A theme file can be valid TOML with valid colours and still take the app down
when selected: an ansi theme that lacks a variable a widget's CSS uses
(``$ansi-background``), or a variable whose value does not fit where it is used
(``scrollbar = "round red"`` for ``scrollbar-color``). Textual finds out only
when it re-parses every stylesheet with the new variables, and then it exits.

So a theme is tried first: its variables are built as Textual builds them, and
every CSS declaration of dltui's screens and of the widgets they show that
refers to a variable is parsed with them. Declarations without a variable
cannot depend on the theme, which is why they are left out (the check takes
milliseconds, not the tenth of a second a full re-parse does). Colours that
dltui's own code reads from the theme are checked too.
"""

from __future__ import annotations

import importlib
import inspect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.css.tokenize import tokenize_values
from textual.dom import DOMNode
from textual.theme import Theme

from dltui.tui.themes import ThemeProblem

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# ``property: value`` where the value names a variable; a value ends at ``;`` or ``}``
# and never holds ``{``, so a selector such as ``Input:focus {`` is never taken for one.
_DECLARATION = re.compile(r"(?<![\w$-])([a-zA-Z][\w-]*)\s*:\s*([^;{}]*\$[^;{}]*?)\s*(?=[;}])")
_VARIABLE = re.compile(r"\$([\w-]+)")

CODE_COLOURS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "foreground-muted",
)
"""Theme variables that dltui's code (not its CSS) reads with `Color.parse` (plots, run states).

Textual's ansi themes write muted colours as ``ansi_default 50%``, which `Color.parse`
refuses: an ansi theme sets ``foreground-muted`` itself (``dltui-terminal`` does).
"""

_SCREEN_MODULES = (
    "dltui.tui.app",
    "dltui.tui.screens.browser",
    "dltui.tui.screens.run",
    "dltui.tui.screens.run_panes",
    "dltui.tui.screens.compare",
    "dltui.tui.screens.help",
    "dltui.tui.screens.confirm",
    "dltui.tui.builder.screen",
    "dltui.tui.builder.dialogs",
    "dltui.tui.builder.kind_picker",
    "dltui.tui.builder.template_picker",
    "dltui.tui.widgets",
    "textual.command",
    "textual.widgets._toast",
    "textual.widgets._tooltip",
)
"""Everything the dashboard can put on the screen: their widget classes carry the CSS."""


@dataclass(frozen=True)
class StyleProbe:
    """The CSS declarations that depend on a theme, and the variables they use."""

    declarations: tuple[tuple[str, str], ...]
    """``(property, value)`` pairs, each naming at least one variable."""
    variables: frozenset[str]
    """Every variable name (without ``$``) any of the sources refers to."""

    @classmethod
    def from_sources(cls, sources: Iterable[str]) -> StyleProbe:
        """The probe for the CSS texts ``sources``."""
        found: set[tuple[str, str]] = set()
        names: set[str] = set()
        for source in sources:
            text = _COMMENT.sub("", source)
            names.update(_VARIABLE.findall(text))
            for match in _DECLARATION.finditer(text):
                found.add((match.group(1), " ".join(match.group(2).split())))
        return cls(tuple(sorted(found)), frozenset(names))

    def problems(self, theme: Theme, path: Path) -> list[ThemeProblem]:
        """Why ``theme`` (read from ``path``) cannot style the dashboard; empty when it can."""
        try:
            variables = {**theme.to_color_system().generate(), **theme.variables}
        except Exception as exc:  # Textual's colour maths on odd input; say so, never crash
            return [ThemeProblem(path, "", f"its colours cannot be built: {exc}")]
        problems = [
            ThemeProblem(
                path,
                f"variables.{name}",
                "dltui's styles use this variable, but the theme does not set it "
                "(themes with ansi = true must set it under [variables])",
            )
            for name in sorted(self.variables - variables.keys())
        ]
        problems += _unreadable_values(theme, path)
        if problems:
            return problems
        problems += self._declaration_problems(theme, variables, path)
        for name in CODE_COLOURS:
            value = variables.get(name)
            if value is None:
                continue
            try:
                Color.parse(value)  # as the plots and the run states read them
            except ColorParseError:
                problems.append(
                    ThemeProblem(
                        path,
                        _field_of(name, theme),
                        f"${name} is {value!r}, not a colour dltui can draw curves and run "
                        f'states with (set "{name}" to a colour under [variables])',
                    )
                )
        return problems

    def _declaration_problems(
        self, theme: Theme, variables: dict[str, str], path: Path
    ) -> list[ThemeProblem]:
        # One rule per declaration, so that each error points at the declaration it is in.
        css = "\n".join(f"Probe {{ {prop}: {value}; }}" for prop, value in self.declarations)
        sheet = Stylesheet(variables=variables)
        sheet.add_source(css, ("dltui theme check", ""))
        try:
            sheet.parse()
        except StylesheetParseError as exc:
            return _parse_problems(exc, theme, variables, path)
        except Exception as exc:  # a tokenizer error Textual raises as it goes
            return [ThemeProblem(path, "", f"dltui's styles do not parse with it: {exc}")]
        return []


def _unreadable_values(theme: Theme, path: Path) -> list[ThemeProblem]:
    problems = []
    for name, value in theme.variables.items():
        try:
            tokenize_values({name: value})
        except Exception:
            problems.append(ThemeProblem(path, f"variables.{name}", f"not a CSS value: {value!r}"))
    return problems


def _parse_problems(
    error: StylesheetParseError, theme: Theme, variables: dict[str, str], path: Path
) -> list[ThemeProblem]:
    problems: dict[str, ThemeProblem] = {}
    for rule in getattr(error.errors, "rules", ()):
        for token, _help in rule.errors:
            origin = getattr(token, "referenced_by", None)
            name = origin.name if origin is not None else None
            declaration = _declaration_text(origin.code if origin is not None else "", origin)
            if name is None:
                key = ""
                message = f"dltui's styles do not parse with it ({declaration})"
            else:
                key = _field_of(name, theme)
                message = (
                    f"{variables.get(name, '')!r} does not fit where dltui uses ${name} "
                    f"({declaration})"
                )
            problems.setdefault(key, ThemeProblem(path, key, message))
    if not problems:
        problems[""] = ThemeProblem(path, "", "dltui's styles do not parse with it")
    return list(problems.values())


def _declaration_text(code: str, origin: Any) -> str:
    """The declaration an error is in, as ``property: value``, from the probe's source."""
    if origin is None or not code:
        return "a style"
    line_number = origin.location[0]
    lines = code.splitlines()
    if 0 <= line_number < len(lines):
        return lines[line_number].strip().removeprefix("Probe {").removesuffix("}").strip(" ;")
    return "a style"


def _field_of(name: str, theme: Theme) -> str:
    """The theme file's field behind the variable ``name``."""
    if name in theme.variables:
        return f"variables.{name}"
    for field in ("primary", "secondary", "accent", "warning", "error", "success"):
        if name == field or name.startswith(f"{field}-"):
            return field
    for field in ("foreground", "background", "surface", "panel", "boost"):
        if name == field or name.startswith(f"{field}-"):
            return field
    return f"variables.{name}"


_probe: StyleProbe | None = None
_probe_lock = threading.Lock()


def dashboard_probe() -> StyleProbe:
    """The probe for every screen and widget of the dashboard (built once; imports them).

    Call it from a worker: importing every screen costs a moment the first paint
    must not wait for.
    """
    global _probe
    with _probe_lock:
        if _probe is None:
            for module in _SCREEN_MODULES:
                importlib.import_module(module)
            _probe = StyleProbe.from_sources(_css_sources())
        return _probe


def _css_sources() -> list[str]:
    """The CSS of every widget, screen and app class imported now, and of their CSS files."""
    sources: list[str] = []
    pending: list[type[Any]] = [DOMNode]
    seen: set[type[Any]] = set()
    while pending:
        cls = pending.pop()
        for css_name in ("DEFAULT_CSS", "CSS"):
            css = cls.__dict__.get(css_name)
            if isinstance(css, str) and css:
                sources.append(css)
        for path in _css_paths(cls):
            try:
                sources.append(path.read_text(encoding="utf-8"))
            except OSError:
                continue  # Textual reports a missing stylesheet itself
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
    return sources


def _css_paths(cls: type[Any]) -> list[Path]:
    value = cls.__dict__.get("CSS_PATH")
    if not value:
        return []
    names = [value] if isinstance(value, (str, Path)) else list(value)
    try:
        folder = Path(inspect.getfile(cls)).parent
    except (TypeError, OSError):
        return []
    return [folder / name for name in names]
