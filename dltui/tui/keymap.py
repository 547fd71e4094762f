"""The user's key remaps: a TOML file of ``"command.id" = "keys"``, checked before use.

Every key binding of the dashboard carries a stable id (see `dltui.tui.commands`);
the file maps ids to Textual key strings, applied with ``App.set_keymap``::

    "browser.launch" = "ctrl+r"
    "app.help" = "f1,question_mark"

Dotted keys and tables mean the same (``browser.launch = "ctrl+r"``, or
``launch = "ctrl+r"`` under ``[browser]``). `load_keymap` reads and checks a
file without an app; `unknown_ids` checks ids against the bindings that exist,
and `keymap_clashes` finds keys a remap took from another command; both use
`binding_scopes` (which reads the dashboard's sources, so it runs on a worker).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, REPLACED_KEYS, Keys, key_to_character

from dltui.bounded import FileLimitError, read_text_limited
from dltui.safe_text import printable
from dltui.toml_syntax import TomlError, parse_toml

KEYMAP_FILE = "keymap.toml"
"""The keymap's file name inside the user's dltui config folder."""

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
"""Modifier names Textual understands in a key string (``ctrl+shift+up``)."""

_NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
) | frozenset({"newline", "at"})

if TYPE_CHECKING:
    import ast

_LINE_PREFIX = re.compile(r"^line (\d+): ")

KEYMAP_FILE_LIMIT = 256 * 1024
"""Largest keymap file read (a full remap of every command is a few KiB)."""


@dataclass(frozen=True)
class KeymapProblem:
    """One thing wrong with a keymap file: the file, the command id at fault, and what."""

    file: Path
    command_id: str
    """The id the problem is about; empty when it is about the whole file."""
    message: str
    line: int | None = None
    """The line of the file, when known (TOML syntax errors)."""

    def __str__(self) -> str:
        """One line naming file, line and id; what came from the file is shown, not obeyed."""
        where = str(self.file)
        if self.line is not None:
            where += f", line {self.line}"
        if self.command_id:
            where += f": {shown(self.command_id)}"
        return printable(f"{where}: {self.message}", keep_newlines=False)


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: a value from the file, quoted in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def default_keymap_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/dltui/keymap.toml``, or ``~/.config/dltui/keymap.toml``.

    A relative ``XDG_CONFIG_HOME`` is ignored, as the XDG base-directory spec says.
    """
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME", "")
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "dltui" / KEYMAP_FILE


def load_keymap(
    path: str | os.PathLike[str], known_ids: Collection[str] | None = None
) -> tuple[dict[str, str], list[KeymapProblem]]:
    """Read the keymap file ``path``: the usable entries, and every problem found.

    Returns ``({binding id: keys}, problems)``. Entries with a problem are left
    out; the others are kept, so one typo does not undo every remap. Keys are
    normalised to Textual's comma-separated form (``"f1, ?"`` -> ``"f1,?"``).
    With ``known_ids``, ids not among them are problems too (with a
    suggestion). Never raises for a bad or missing file: that is a problem.
    """
    file = Path(path)
    try:
        # Within limits: a FIFO or device is refused unopened, a huge file unread.
        text = read_text_limited(file, KEYMAP_FILE_LIMIT)
    except FileLimitError as error:
        detail = str(error).removeprefix(f"{file}: ")
        match = _LINE_PREFIX.match(detail)
        line = int(match.group(1)) if match else None
        detail = detail[match.end() :] if match else detail
        if detail == "is a folder, not a file":
            detail = "is a folder, not a keymap file"
        return {}, [KeymapProblem(file, "", detail, line=line)]
    try:
        raw = parse_toml(text, source=str(file))
    except TomlError as error:
        return {}, [KeymapProblem(file, "", error.reason, line=error.line)]

    mapping: dict[str, str] = {}
    problems: list[KeymapProblem] = []
    for command_id, value in _flatten(raw):
        keys, why = _check_keys(value)
        if why is not None:
            problems.append(KeymapProblem(file, command_id, why))
        else:
            mapping[command_id] = keys
    if known_ids is not None:
        unknown = unknown_ids(mapping, known_ids, file)
        problems.extend(unknown)
        for problem in unknown:
            mapping.pop(problem.command_id, None)
    return mapping, problems


def unknown_ids(
    mapping: Mapping[str, str], known_ids: Collection[str], file: Path
) -> list[KeymapProblem]:
    """A problem for each id of ``mapping`` that is not in ``known_ids``, with a did-you-mean."""
    import difflib

    problems = []
    for command_id in mapping:
        if command_id in known_ids:
            continue
        close = difflib.get_close_matches(command_id, sorted(known_ids), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "; press ? in the dashboard for keys"
        problems.append(KeymapProblem(file, command_id, f"no command has this id{hint}"))
    return problems


@dataclass(frozen=True)
class BindingScope:
    """The key bindings one class declares, which compete for the same keys."""

    name: str
    """How the user knows it: the screen's help title, else the class name."""
    bindings: tuple[Binding, ...]
    includes_app: bool
    """A screen: the app's keys work on it too, unless the screen takes them."""


def binding_scopes(package_dir: Path | None = None) -> list[BindingScope]:
    """The key bindings of every class in the dashboard's sources that declares ``BINDINGS``.

    Read from the source files (``package_dir``: dltui/tui) rather than by
    importing them: importing the builder's modules on a worker, while the
    browser's worker imports the schema, can deadlock Python's import locks
    (the schema and the layer registry import each other). ``BINDINGS`` is
    understood as written here: a list of ``Binding(...)`` with literal
    arguments, or ``bindings(X_COMMANDS)`` of a list in `dltui.tui.commands`.
    A file that cannot be read or parsed is skipped.
    """
    import ast

    folder = Path(__file__).parent if package_dir is None else package_dir
    scopes: list[BindingScope] = []
    for path in sorted(folder.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            if "BINDINGS" not in text:
                continue  # most modules: not worth parsing (this runs beside the UI)
            tree = ast.parse(text, str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                scope = _class_scope(node)
                if scope is not None:
                    scopes.append(scope)
    return scopes


def _class_scope(node: ast.ClassDef) -> BindingScope | None:
    import ast

    declared: list[Binding] = []
    title = node.name
    for statement in node.body:
        target, value = _assignment(statement)
        if target == "BINDINGS" and value is not None:
            declared.extend(_bindings_of(value))
        elif target == "HELP_TITLE" and isinstance(value, ast.Constant):
            title = str(value.value)
    if not declared:
        return None
    bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
    bases |= {base.value.id for base in node.bases
              if isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name)}  # fmt: skip
    if any(name == "App" for name in bases):
        title = "Everywhere"
    # A modal screen's keys stop there: the app's keys do not reach through it.
    modal = "ModalScreen" in bases
    is_screen = not modal and any(name.endswith("Screen") for name in bases)
    return BindingScope(title, tuple(declared), is_screen)


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    import ast

    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return None, None


def _bindings_of(value: ast.expr) -> list[Binding]:
    """The bindings an expression of ``BINDINGS`` declares (those it can read)."""
    import ast

    from dltui.tui import commands

    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id == "bindings" and value.args and isinstance(value.args[0], ast.Name):
            listed = getattr(commands, value.args[0].id, ())
            return [c.binding() for c in listed if isinstance(c, commands.Command)]
        if value.func.id == "Binding":
            try:
                args = [ast.literal_eval(arg) for arg in value.args]
                options = {kw.arg: ast.literal_eval(kw.value) for kw in value.keywords if kw.arg}
            except ValueError:
                return []
            return [Binding(*args, **options)]
        return []
    if isinstance(value, ast.List | ast.Tuple):
        found: list[Binding] = []
        for element in value.elts:
            inner = element.value if isinstance(element, ast.Starred) else element
            found.extend(_bindings_of(inner))
        return found
    return []


def binding_ids(scopes: list[BindingScope] | None = None) -> frozenset[str]:
    """Every binding id of ``scopes`` (default: every class of the dashboard's sources)."""
    if scopes is None:
        scopes = binding_scopes()
    return frozenset(binding.id for scope in scopes for binding in scope.bindings if binding.id)


def keymap_clashes(
    mapping: Mapping[str, str],
    scopes: list[BindingScope],
    app_bindings: tuple[Binding, ...],
    file: Path,
) -> list[KeymapProblem]:
    """A problem for each remapped key that another binding of the same scope already has.

    The remap wins (Textual drops the other binding's key); the user should know
    which command lost its key, and where. Clashes among default keys are
    intended (a screen's escape over the app's) and not reported.
    """
    problems: list[KeymapProblem] = []
    for scope in scopes:
        rivals = [*scope.bindings, *(app_bindings if scope.includes_app else ())]
        seen: set[frozenset[str | None]] = set()
        for binding in scope.bindings:
            if binding.id not in mapping:
                continue
            mine = set(_keys_of(binding, mapping))
            for other in rivals:
                pair = frozenset({binding.id, other.id})
                if other.id == binding.id or pair in seen:
                    continue
                seen.add(pair)
                lost = sorted(mine & set(_keys_of(other, mapping)))
                if lost:
                    problems.append(
                        KeymapProblem(
                            file,
                            binding.id or "",
                            f"{', '.join(lost)} was also the key of "
                            f"{other.id or other.action} ({other.description}) in "
                            f"{scope.name}, which loses it",
                        )
                    )
    return problems


def _keys_of(binding: Binding, mapping: Mapping[str, str]) -> list[str]:
    keys = mapping.get(binding.id or "", binding.key)
    return [_long_form(key.strip()) for key in keys.split(",")]


def _long_form(key: str) -> str:
    """``?`` -> ``question_mark``: a character key as Textual names it in bindings."""
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return KEY_NAME_REPLACEMENTS.get(name, name)


def keys_table(mapping: Mapping[str, str] | None = None) -> str:
    """Every binding id with its keys (as ``mapping`` remaps them) and label, by screen.

    What `dltui keys` prints: the ids a keymap file can use.
    """
    lines: list[str] = []
    for scope in binding_scopes():
        rows = [b for b in scope.bindings if b.id]
        if not rows:
            continue
        lines.append(f"{scope.name}:")
        for binding in rows:
            keys = (mapping or {}).get(binding.id or "", binding.key)
            lines.append(f"  {binding.id:<24} {keys:<22} {binding.description}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def problems_report(problems: list[KeymapProblem], limit: int = 6) -> str:
    """One notification's text for ``problems`` (the first ``limit`` of them)."""
    lines = [str(problem) for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted id, value)`` pairs; tables nest ids (``[browser] launch``: ``browser.launch``)."""
    pairs: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs.extend(_flatten(value, f"{name}."))
        else:
            pairs.append((name, value))
    return pairs


def _check_keys(value: Any) -> tuple[str, str | None]:
    """``value`` as a normalised key list, or a problem saying why it is not one."""
    example = 'e.g. "ctrl+r" or "f1,question_mark"'
    if not isinstance(value, str):
        kind = "an array" if isinstance(value, list) else type(value).__name__
        return "", f"must be a string of keys ({example}), got {kind} {shown(value)}"
    if not value.strip():
        return "", f"must be a non-empty string of keys ({example})"
    keys = [part.strip() for part in value.split(",")]
    for key in keys:
        problem = key_problem(key)
        if problem is not None:
            return "", problem
    return ",".join(keys), None


def key_problem(key: str) -> str | None:
    """Why ``key`` (one key, ``ctrl+r``, ``G``, ``f1``, ``question_mark``) is not a key, or None."""
    import difflib

    if not key:
        return "has an empty key (two commas, or a comma at an end)"
    if key == "+":
        return None
    if any(space.isspace() for space in key):
        return f"{shown(key)} is not a key: no spaces (join modifiers with +: ctrl+r)"
    *modifiers, name = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            hint = difflib.get_close_matches(modifier, sorted(MODIFIERS), n=1)
            maybe = f"; did you mean {hint[0]!r}?" if hint else ""
            known = ", ".join(sorted(MODIFIERS))
            return f"{shown(key)}: {shown(modifier)} is not a modifier ({known}){maybe}"
    if len(name) == 1 or name in _NAMED_KEYS:
        return None
    if key_to_character(REPLACED_KEYS.get(name, name)) is not None:
        return None  # a character by name: question_mark, slash, left_square_bracket
    hint = difflib.get_close_matches(name.lower(), sorted(_NAMED_KEYS), n=1)
    maybe = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"{shown(key)}: {shown(name)} is not a key name Textual knows{maybe}"
