"""TOML text parsed within limits, with every failure placed on a line.

`tomllib` says where most syntax errors are ("at line 3, column 7"), but not the
ones found when the text runs out ("Unclosed array (at end of document)"): the
person then has to hunt for what was left open. `parse_toml` names the line the
unclosed array, inline table or string began on (or the last line of the file
when nothing is open), refuses nesting past `dltui.bounded.MAX_NESTING`, and turns
the other ways a parser can fail on hostile text (an integer of 10,000 digits is
a plain ``ValueError`` inside `tomllib`) into the one `TomlError`.
This module is domain code: it imports no Textual and no third-party package.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from dltui.bounded import FileLimitError, loads_toml

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_LINE_PREFIX = re.compile(r"^line (\d+): ")
_LONG_NUMBER = re.compile(r"[0-9_]{4000,}")

_OPENED = {"[": "array", "{": "inline table"}


class TomlError(ValueError):
    """TOML text that cannot be read: ``reason`` says why, ``line`` where (1-based)."""

    def __init__(self, reason: str, line: int | None, column: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{reason}")


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """``tomllib.loads(text)``; every failure is a `TomlError` with a line where one exists.

    ``source`` names the text in the limit checks; the error's ``reason`` does not
    repeat it (callers put the file name in front themselves).
    """
    try:
        return loads_toml(text, source=source)
    except FileLimitError as error:
        detail = str(error).removeprefix(f"{source}: ")
        match = _LINE_PREFIX.match(detail)
        if match:
            raise TomlError(detail[match.end() :], int(match.group(1))) from None
        raise TomlError(detail, _last_line(text)) from None
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(text, str(error)) from None
    except ValueError as error:
        # tomllib lets int()'s digit limit through; nothing else it raises is plain.
        long = _LONG_NUMBER.search(text)
        line = text.count("\n", 0, long.start()) + 1 if long else _last_line(text)
        reason = "a number too long to read" if long else f"cannot be read ({error})"
        raise TomlError(f"not valid TOML: {reason}", line) from None


def _syntax_error(text: str, message: str) -> TomlError:
    at = _AT.search(message)
    if at:
        reason = message[: at.start()]
        return TomlError(f"not valid TOML: {reason} (column {at.group(2)})", int(at.group(1)))
    reason = _AT_END.sub("", message)
    opened = unclosed(text)
    if opened is not None:
        what, line = opened
        return TomlError(
            f"not valid TOML: {reason}: the file ends inside the {what} begun on line {line}",
            line,
        )
    return TomlError(f"not valid TOML: {reason} (at the end of the file)", _last_line(text))


def _last_line(text: str) -> int:
    """The number of the last line holding anything but white space (1 for an empty text)."""
    stripped = text.rstrip()
    return stripped.count("\n") + 1


def unclosed(text: str) -> tuple[str, int] | None:
    """What is still open at the end of ``text`` and the line it began on, or None.

    A lexical scan, enough for error messages: strings (four kinds), comments,
    and the brackets outside them. The innermost open thing is the one the
    parser was reading when the text ran out.
    """
    stack: list[tuple[str, int]] = []
    line = 1
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif char in "\"'":
            triple = text.startswith(char * 3, i)
            end = _string_end(text, i, char, triple)
            if end < 0:
                return ("multi-line string" if triple else "string", line)
            line += text.count("\n", i, end)
            i = end
            continue
        elif char == "[" and not stack and not text[text.rfind("\n", 0, i) + 1 : i].strip():
            stack.append(("table header", line))
            if text.startswith("[[", i):
                i += 1  # [[x]] is one header, not an array in a header
        elif char in "[{":
            stack.append((_OPENED[char], line))
        elif char in "]}" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


def _string_end(text: str, start: int, quote: str, triple: bool) -> int:
    """Index just past the string opening at ``start``, or -1 when it never closes."""
    delimiter = quote * 3 if triple else quote
    i = start + len(delimiter)
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\" and quote == '"':
            i += 2
            continue
        if char == "\n" and not triple:
            return -1  # a one-line string ends at the line's end, closed or not
        if text.startswith(delimiter, i):
            end = i + len(delimiter)
            # A multi-line string may end with up to two extra quotes (""""" is legal).
            while triple and end < n and text[end] == quote and end - i < 5:
                end += 1
            return end
        i += 1
    return -1
