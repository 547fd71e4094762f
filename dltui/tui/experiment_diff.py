"""Which experiment fields differ between runs: each run's frozen experiment.toml, flattened."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dltui.bounded import FileLimitError, loads_toml, read_text_limited
from dltui.run_format import EXPERIMENT

MISSING = "—"
"""Shown for a field one run's file does not set."""


def flatten(table: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [{"c": 1}]}}`` -> ``{"a.b[0].c": 1}``; lists of scalars stay whole."""
    out: dict[str, Any] = {}
    if isinstance(table, dict):
        for key, value in table.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(table, list) and any(isinstance(item, (dict, list)) for item in table):
        for index, item in enumerate(table):
            out.update(flatten(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = table
    return out


def read_frozen(run_dir: Path) -> tuple[dict[str, Any], str | None]:
    """The run's experiment.toml as a table, and a problem (None if it read cleanly).

    The file is another program's (or person's): read within `dltui.bounded`'s
    limits, so a huge, deeply nested or non-regular one is a problem, not a hang.
    """
    path = Path(run_dir) / EXPERIMENT
    if not path.exists() and not path.is_symlink():
        return {}, f"{path}: no frozen experiment"
    try:
        return loads_toml(read_text_limited(path), source=str(path)), None
    except FileLimitError as exc:
        return {}, str(exc)
    except tomllib.TOMLDecodeError as exc:
        return {}, f"{path}: not valid TOML: {exc}"


def differing_fields(tables: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Dotted paths whose values are not all equal, with each table's value as text, sorted."""
    flat = [flatten(table) for table in tables]
    paths = sorted({path for table in flat for path in table}, key=_path_key)
    rows: list[tuple[str, list[str]]] = []
    for path in paths:
        values = [table.get(path, _Missing) for table in flat]
        if any(value != values[0] for value in values[1:]):
            rows.append((path, [format_value(value) for value in values]))
    return rows


class _MissingType:
    def __repr__(self) -> str:
        return MISSING


_Missing = _MissingType()


def format_value(value: Any) -> str:
    """A TOML value as a person would write it (strings quoted, booleans lower-case)."""
    if value is _Missing:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def _path_key(path: str) -> tuple[Any, ...]:
    # Sort model.layers[10] after model.layers[9], not after model.layers[1].
    parts: list[Any] = []
    for piece in path.replace("]", "").replace("[", ".#").split("."):
        parts.append((0, int(piece[1:]), "") if piece.startswith("#") else (1, 0, piece))
    return tuple(parts)
