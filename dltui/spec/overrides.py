"""Setting a field of an experiment by its path: ``training.optimizer.lr = 0.003``.

Paths are written the way errors name fields (``model.layers[3].p``,
``data.split.val``). `set_path` changes the parsed TOML (a plain dict) before
validation, so the result is checked exactly like a file a person wrote; the
trainer's ``--set`` and every sweep trial go through here. `apply_to_text` makes
the same changes in the file's text with tomlkit, keeping its comments, for the
frozen copy a run keeps.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from typing import Any

PathPart = str | int

_PART = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_\-]*)|\"([^\"]*)\")\s*((?:\[\s*-?\d+\s*\])*)")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")


class PathError(ValueError):
    """A field path that is malformed, or names nothing in the experiment."""


def parse_path(path: str) -> tuple[PathPart, ...]:
    """``"model.layers[3].p"`` -> ``("model", "layers", 3, "p")``; quoted names may hold dots."""
    parts: list[PathPart] = []
    pos = 0
    while True:
        match = _PART.match(path, pos)
        if match is None or match.end() == pos:
            raise PathError(f"{path!r}: expected names joined by dots, e.g. model.layers[0].p")
        parts.append(match.group(1) if match.group(1) is not None else match.group(2))
        parts.extend(int(i) for i in _INDEX.findall(match.group(3)))
        pos = match.end()
        if pos == len(path):
            return tuple(parts)
        if path[pos] != ".":
            raise PathError(f"{path!r}: unexpected {path[pos]!r} at position {pos + 1}")
        pos += 1


def format_parts(parts: tuple[PathPart, ...]) -> str:
    """The inverse of `parse_path`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _step(container: Any, part: PathPart, where: str, *, create: bool) -> Any:
    if isinstance(part, int):
        if not isinstance(container, list):
            raise PathError(f"{where}: is not a list of tables, so [{part}] names nothing")
        if not -len(container) <= part < len(container):
            raise PathError(f"{where}: has {len(container)} entries, so [{part}] names nothing")
        return container[part]
    if not isinstance(container, Mapping):
        raise PathError(f"{where}: is a value, not a table")
    if part not in container:
        if create:
            return None
        raise PathError(f"{where}: has no field {part!r}")
    return container[part]


def get_path(raw: Mapping[str, Any], path: str | tuple[PathPart, ...]) -> Any:
    """The value at ``path`` in the parsed TOML ``raw`` (PathError if there is none)."""
    parts = parse_path(path) if isinstance(path, str) else path
    node: Any = raw
    for i, part in enumerate(parts):
        node = _step(node, part, format_parts(parts[:i]) or "the file", create=False)
    return node


def set_path(raw: dict[str, Any], path: str | tuple[PathPart, ...], value: Any) -> None:
    """Set the field at ``path`` of the parsed TOML ``raw`` to ``value``, in place.

    Tables on the way must exist, except the last one, which may be created (as
    ``[early_stopping]`` may be absent before ``early_stopping.patience`` is set);
    the field itself may be new (the schema then decides whether it is allowed).
    """
    parts = parse_path(path) if isinstance(path, str) else path
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        where = format_parts(parts[:i]) or "the file"
        following = _step(node, part, where, create=i == len(parts) - 2)
        if following is None:
            following = {}
            node[part] = following
        node = following
    last = parts[-1]
    where = format_parts(parts[:-1]) or "the file"
    if isinstance(last, int):
        _step(node, last, where, create=False)
    elif not isinstance(node, dict):
        raise PathError(f"{where}: is a value, not a table")
    node[last] = value


def with_values(raw: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each ``path: value`` of ``values`` set."""
    out = copy.deepcopy(dict(raw))
    for path, value in values.items():
        set_path(out, path, value)
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"training.optimizer.lr=0.003"`` -> ``("training.optimizer.lr", 0.003)``.

    The value is read as a TOML value (``64``, ``0.5``, ``true``, ``"adam"``,
    ``[1, 2]``); a bare word that is not one is taken as a string.
    """
    path, sep, value_text = text.partition("=")
    if not sep or not path.strip():
        raise PathError(f"{text!r}: expected PATH=VALUE, e.g. training.optimizer.lr=0.003")
    parse_path(path.strip())
    value_text = value_text.strip()
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        if not value_text or any(c in value_text for c in "\"'[]{}=\n"):
            raise PathError(f"{text!r}: {value_text!r} is not a TOML value") from None
        value = value_text
    return path.strip(), value


def apply_to_text(text: str, values: Mapping[str, Any]) -> str:
    """The TOML ``text`` with each ``path: value`` set, comments and layout kept."""
    import tomlkit

    document = tomlkit.parse(text)
    for path, value in values.items():
        parts = parse_path(path)
        node: Any = document
        for i, part in enumerate(parts[:-1]):
            following = _step(
                node, part, format_parts(parts[:i]) or "the file", create=i == len(parts) - 2
            )
            if following is None:
                following = tomlkit.table()
                node[part] = following
            node = following
        node[parts[-1]] = value
    return tomlkit.dumps(document)
