"""Reading files that other programs and people write, within limits.

Every file dltui reads may be torn, huge, deeply nested, hostile, or not a file at
all (a FIFO blocks ``open()``; ``/dev/zero`` never ends). These helpers read them
so that the worst a file can do is be reported: each failure is a `FileLimitError`
(a `ValueError`) whose message names the file and what was wrong.

``json`` and ``tomllib`` recurse once per nesting level, so a line of 200,000 ``[``
raises `RecursionError` deep inside them; here that becomes a `FileLimitError`,
and nesting deeper than `MAX_NESTING` is refused before any parser sees it.
This module imports nothing else of dltui and no third-party package.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

MAX_NESTING = 64
"""Deepest nesting of arrays and tables accepted in a TOML or JSON settings file."""

SETTINGS_FILE_LIMIT = 4 * 1024 * 1024
"""Largest experiment, theme, keymap, meta.json or status.json file read (4 MiB)."""

_OPENERS = {ord("["), ord("{")}
_CLOSERS = {ord("]"), ord("}")}
_STRUCTURE = re.compile(rb"[\[\]{}]")


class FileLimitError(ValueError):
    """A file is not a regular file, is too large, or nests too deeply."""


def _size_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def check_regular_file(path: str | Path) -> os.stat_result:
    """Stat ``path`` (following links) and refuse anything but a regular file.

    A stat never blocks, so a FIFO or a device is refused before anyone opens it.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileLimitError(f"{path}: no such file") from None
    except OSError as exc:
        raise FileLimitError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise FileLimitError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileLimitError(f"{path}: not a regular file")
    return info


def read_bytes_limited(path: str | Path, limit: int = SETTINGS_FILE_LIMIT) -> bytes:
    """The whole content of the regular file ``path``, refused when over ``limit`` bytes.

    Opened non-blocking and checked after opening too, so a file swapped for a FIFO
    between the check and the open still cannot block the caller.
    """
    check_regular_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | os.O_CLOEXEC)
    except OSError as exc:
        raise FileLimitError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileLimitError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise FileLimitError(
                f"{path}: {_size_text(info.st_size)} is larger than the "
                f"{_size_text(limit)} this file may be"
            )
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise FileLimitError(f"{path}: larger than the {_size_text(limit)} this file may be")
    return data


def read_text_limited(path: str | Path, limit: int = SETTINGS_FILE_LIMIT) -> str:
    """`read_bytes_limited` decoded as UTF-8 (a decoding failure is a `FileLimitError`)."""
    data = read_bytes_limited(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileLimitError(f"{path}: line {line}: not UTF-8 text") from None


def nesting_depth(data: bytes | str) -> int:
    """The deepest nesting of ``[``/``{`` in ``data``, counting brackets inside strings too.

    Counting brackets in strings makes this an upper bound, which is what a limit
    needs: a real file nests a few levels, and a string full of ``[`` is rare
    enough that refusing it past `MAX_NESTING` costs nobody anything.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = deepest = 0
    for match in _STRUCTURE.finditer(raw):
        if match.group()[0] in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _line_of_depth(text: str, limit: int) -> int:
    depth = 0
    line = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}" and depth:
            depth -= 1
    return line


def _may_nest_past(data: bytes | str, limit: int) -> bool:
    # Counting is C-speed; the scan runs only when there are enough brackets to matter.
    if isinstance(data, str):
        return data.count("[") + data.count("{") > limit
    return data.count(b"[") + data.count(b"{") > limit


def loads_json(data: bytes | str, *, source: str, max_depth: int | None = MAX_NESTING) -> Any:
    """``json.loads(data)``, with nesting past ``max_depth`` refused.

    Raises `FileLimitError` for too deep, ``json.JSONDecodeError`` for bad JSON
    (both are ``ValueError``); ``source`` names the file in the message. With
    ``max_depth=None`` only the parser's own recursion limit applies (still
    reported as a `FileLimitError`): for hot paths such as a followed event log.
    """
    if (
        max_depth is not None
        and _may_nest_past(data, max_depth)
        and (nesting_depth(data) > max_depth)
    ):
        raise FileLimitError(f"{source}: nested more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except RecursionError:
        raise FileLimitError(f"{source}: nested too deeply") from None


def loads_toml(text: str, *, source: str, max_depth: int = MAX_NESTING) -> dict[str, Any]:
    """``tomllib.loads(text)``, with nesting past ``max_depth`` refused.

    Raises `FileLimitError` (its message names ``source`` and the line where the
    nesting passes the limit) or ``tomllib.TOMLDecodeError``.
    """
    if _may_nest_past(text, max_depth) and nesting_depth(text) > max_depth:
        line = _line_of_depth(text, max_depth)
        raise FileLimitError(f"{source}: line {line}: nested more than {max_depth} levels deep")
    try:
        document = tomllib.loads(text)
    except RecursionError:
        raise FileLimitError(f"{source}: nested too deeply") from None
    # Dotted keys and headers (`[a.a.a]`, `a.a.a = 1`) nest tables without a
    # bracket: measured on the result, so that code walking it recursively cannot
    # overflow the stack either.
    if text.count(".") > max_depth and structure_depth(document) - 1 > max_depth:
        lines = text.splitlines() or [""]
        dotted = max(range(len(lines)), key=lambda i: lines[i].count(".")) + 1
        raise FileLimitError(f"{source}: line {dotted}: nested more than {max_depth} levels deep")
    return document


def structure_depth(value: Any) -> int:
    """How deeply dicts and lists nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest
