"""The user's key remaps: a TOML file of ``"command.id" = "keys"``, checked before use.

Every key binding of the dashboard carries a stable id (the table: `dltui.tui.commands`);
the file maps ids to Textual key strings, applied with ``App.set_keymap``::

    "browser.launch" = "ctrl+r"
    "app.help" = "f1,question_mark"

Dotted keys and tables mean the same (``browser.launch = "ctrl+r"``, or
``launch = "ctrl+r"`` under ``[browser]``). `load_keymap` reads and checks a
file without an app; `unknown_ids` checks ids against the bindings that exist,
and `keymap_clashes` finds keys a remap took from another command; both use
`binding_scopes`, the table of every binding (`dltui.tui.commands`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, REPLACED_KEYS, Keys, key_to_character

from dltui.bounded import FileLimitError, read_text_limited
from dltui.safe_text import printable
from dltui.settings import config_path
from dltui.toml_syntax import TomlError, parse_toml

KEYMAP_FILE = "keymap.toml"
"""The keymap's file name inside the user's dltui config folder."""

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
"""Modifier names Textual understands in a key string (``ctrl+shift+up``)."""

_NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
) | frozenset({"newline", "at"})

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
    """``$XDG_CONFIG_HOME/dltui/keymap.toml``, or ``~/.config/dltui/keymap.toml``."""
    return config_path(KEYMAP_FILE, environ)


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
    """The key bindings of one place (a screen, a dialog, a widget): they compete for keys."""

    name: str
    """How the user knows it: the screen's help title, else the class's name."""
    bindings: tuple[Binding, ...]
    includes_app: bool
    """A screen: the app's keys work on it too, unless the screen takes them."""


def binding_scopes() -> list[BindingScope]:
    """The key bindings of every scope of the dashboard, from the table in `dltui.tui.commands`."""
    from dltui.tui.commands import SCOPES

    return [
        BindingScope(
            scope.title,
            tuple(command.binding() for command in scope.commands),
            scope.includes_app,
        )
        for scope in SCOPES
    ]


def binding_ids(scopes: list[BindingScope] | None = None) -> frozenset[str]:
    """Every binding id of ``scopes`` (default: every scope of the dashboard)."""
    if scopes is None:
        scopes = binding_scopes()
    return frozenset(binding.id for scope in scopes for binding in scope.bindings if binding.id)


def keymap_problems(mapping: Mapping[str, str], file: Path) -> list[KeymapProblem]:
    """Ids of ``mapping`` that no command has, and keys it takes from other commands."""
    from dltui.tui.commands import APP

    scopes = binding_scopes()
    app_bindings = tuple(command.binding() for command in APP.commands)
    return [
        *unknown_ids(mapping, binding_ids(scopes), file),
        *keymap_clashes(mapping, scopes, app_bindings, file),
    ]


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
