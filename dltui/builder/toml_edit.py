"""Reading and writing values at dotted paths of a `tomlkit` document.

`tomlkit` keeps comments and layout, which is why the builder edits through it
rather than re-serialising a dict. New top-level tables become ``[table]``
sections; tables created deeper (``training.optimizer``, ``data.split``) are
inline tables, the way a person would write a few options.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, InlineTable, Item, Table, Whitespace


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by `get_path` for a key the document does not have."""

Path = Sequence[str | int]


def plain(value: Any) -> Any:
    """A tomlkit value as plain Python (dicts, lists, scalars)."""
    if isinstance(value, (Container, Item)):
        return value.unwrap()
    return value


def get_path(root: Any, path: Path) -> Any:
    """The value at ``path`` (keys and list indices), or `MISSING`."""
    current = root
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or not -len(current) <= part < len(current):
                return MISSING
            current = current[part]
        else:
            if not isinstance(current, Mapping) or part not in current:
                return MISSING
            current = current[part]
    return current


def to_item(value: Any, *, inline: bool) -> Any:
    """``value`` as a tomlkit item; dicts are inline tables when ``inline``."""
    if isinstance(value, Mapping):
        table: Any = tomlkit.inline_table() if inline else tomlkit.table()
        for key, sub in value.items():
            table[key] = to_item(sub, inline=True)
        return table
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        for sub in value:
            array.append(to_item(sub, inline=True))
        return array
    return value


def layer_table(raw: Mapping[str, Any], *, inline: bool) -> Table | InlineTable:
    """A layer as a table; a nested ``layers`` list becomes ``[[...layers]]`` sections."""
    if inline:
        item = to_item(raw, inline=True)
        assert isinstance(item, InlineTable)
        return item
    table = tomlkit.table()
    nested = None
    for key, value in raw.items():
        if key == "layers" and isinstance(value, list):
            nested = value
            continue
        table[key] = to_item(value, inline=True)
    if nested is not None:
        aot = tomlkit.aot()
        for sub in nested:
            aot.append(layer_table(sub, inline=False))
        table["layers"] = aot
    else:
        table.add(tomlkit.nl())  # a blank line before the next [[...]] header
    return table


def set_path(doc: Any, path: Sequence[str], value: Any) -> None:
    """Set the key at dotted ``path``, creating missing tables on the way."""
    current = doc
    for depth, part in enumerate(path[:-1]):
        if part not in current:
            current[part] = tomlkit.table() if depth == 0 else tomlkit.inline_table()
        current = current[part]
        if not isinstance(current, (Table, InlineTable, Container)):
            raise TypeError(f"{'.'.join(path[: depth + 1])} is not a table")
    inline = isinstance(current, InlineTable) or len(path) > 1
    current[path[-1]] = to_item(value, inline=inline)


def set_table_key(table: Table | InlineTable, key: str, value: Any) -> None:
    """Set ``key`` of a layer's table; a new key goes after the table's last key.

    A ``[[...]]`` table ends with the blank line before the next header. tomlkit
    appends a new key after that blank line, so the key would sit just above the
    next layer's header, looking like it belongs to it. It goes before it instead.
    """
    if isinstance(table, InlineTable) or key in table:
        table[key] = to_item(value, inline=True)
        return
    body = table.value.body
    trailing: list[Whitespace] = []
    # Only key-less whitespace is taken off the end, so the keys' places do not move.
    while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace):
        blank = body.pop()[1]
        assert isinstance(blank, Whitespace)
        trailing.insert(0, blank)
    table[key] = to_item(value, inline=True)
    for blank in trailing:
        table.add(blank)


def remove_path(doc: Any, path: Sequence[str]) -> bool:
    """Remove the key at ``path``; an inline table left empty goes too. False if absent."""
    parents = [doc]
    for part in path[:-1]:
        current = parents[-1]
        if not isinstance(current, Mapping) or part not in current:
            return False
        parents.append(current[part])
    last = parents[-1]
    if not isinstance(last, MutableMapping) or path[-1] not in last:
        return False
    del last[path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        table = parents[depth]
        if isinstance(table, InlineTable) and not table:
            del parents[depth - 1][path[depth - 1]]
        else:
            break
    return True


def is_array_of_tables(value: Any) -> bool:
    """Whether ``value`` is written as ``[[...]]`` sections (else an inline array)."""
    return isinstance(value, AoT)


def new_list_of_tables() -> AoT:
    """An empty ``[[...]]`` list."""
    return tomlkit.aot()
