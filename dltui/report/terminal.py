"""Where the output goes: colour or plain, and how wide.

Colour only on a terminal, never when ``NO_COLOR`` is set (https://no-color.org)
or ``TERM=dumb``: output piped into a file, a CI log or `grep` is plain text.
"""

from __future__ import annotations

import os
import shutil
from typing import TextIO

DEFAULT_SIZE = (80, 24)
"""Columns and lines assumed when the output is not a terminal."""

RESET = "\x1b[0m"


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def wants_colour(stream: TextIO) -> bool:
    """Whether to colour what is written to ``stream``."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def terminal_size(stream: TextIO) -> tuple[int, int]:
    """Columns and lines of the terminal ``stream`` writes to.

    Not a terminal: ``COLUMNS``/``LINES`` when set (`watch` sets them for the
    command it runs through a pipe), else 80×24.
    """
    if is_terminal(stream):
        size = shutil.get_terminal_size(DEFAULT_SIZE)
        columns, lines = size.columns, size.lines
    else:
        columns = _env_int("COLUMNS") or DEFAULT_SIZE[0]
        lines = _env_int("LINES") or DEFAULT_SIZE[1]
    return max(20, columns), max(5, lines)


def sized(stream: TextIO) -> bool:
    """Whether output to ``stream`` should fit a screen: a terminal, or `watch`'s pipe."""
    return is_terminal(stream) or bool(_env_int("COLUMNS"))


def _env_int(name: str) -> int | None:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def paint(text: str, colour: int | None, *, bold: bool = False) -> str:
    """``text`` in the 256-colour ``colour`` (and bold); unchanged when both are off."""
    codes = []
    if bold:
        codes.append("1")
    if colour is not None:
        codes.append(f"38;5;{colour}")
    if not codes:
        return text
    return f"\x1b[{';'.join(codes)}m{text}{RESET}"
