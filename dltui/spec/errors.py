"""Validation problems: each names the file, line, field path and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from dltui.safe_text import printable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an experiment file."""

    path: str
    """Field path in the file, e.g. ``model.layers[3].out_features``; empty for the file."""
    message: str
    """What is wrong and what was expected."""
    file: str | None = None
    line: int | None = None
    hint: str | None = None
    """A suggestion, e.g. "did you mean `dropout`?"."""

    def located(self, file: str | None, line: int | None) -> Problem:
        """The same problem with a file and line attached."""
        return replace(self, file=file, line=line if line is not None else self.line)

    def __str__(self) -> str:
        """``file:line: field: message (hint)``, one line, safe to print to a terminal.

        Keys, values and file names come from the file: control characters in
        them are shown as symbols, never obeyed (`dltui.safe_text.printable`).
        """
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return printable(f"{where}{field}{self.message}{hint}", keep_newlines=False)


class SpecError(Exception):
    """An experiment file is invalid. ``problems`` lists everything wrong at once."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def shown(value: object, limit: int = 60, *, quotes: bool = True) -> str:
    """A value from the file as a message quotes it: ``repr`` (or the text itself
    without ``quotes``), cut to ``limit`` characters with ``…``."""
    text = repr(value) if quotes else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A near-miss suggestion for ``word`` among ``choices``, or None."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean `{lowered[word.lower()]}`?"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def format_path(parts: Iterable[str | int]) -> str:
    """``("model", "layers", 3, "out")`` -> ``model.layers[3].out``; a key longer than
    60 characters (a hostile file's) is cut."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + shown(part, quotes=False)
    return out
