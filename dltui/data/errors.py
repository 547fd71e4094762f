"""The one error every data source raises: what is wrong, in which field and which file.

A data file may be anything a path points at, including a file that holds
secrets (a path typed wrong, or a shadow file read as CSV). Its content must
not travel into run files, logs or the terminal: a message names the file,
the line and the column and says what was expected, and quotes at most one
short field of the data, through `quoted`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from dltui.safe_text import printable

QUOTE_LIMIT = 24
"""Most characters of a data field an error message shows."""


def quoted(field: str, limit: int = QUOTE_LIMIT) -> str:
    """One field of the user's data as an error may show it: quoted, on one line,
    control characters made visible, cut to ``limit`` characters (``…`` marks a cut)."""
    text = field if len(field) <= limit else field[: limit - 1] + "…"
    return "'" + printable(text, keep_newlines=False) + "'"


def near_miss(word: str, choices: list[str]) -> str:
    """`` (did you mean `x`?)`` for the choice closest to ``word``, or ""."""
    lowered = [c for c in choices if c.lower() == word.lower()]
    close = lowered or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean `{quoted(close[0])[1:-1]}`?)"


class DataError(ValueError):
    """Data that cannot be used as asked.

    ``field`` is the experiment-file path of the setting at fault (``data.target``,
    ``data.split.val``); ``file`` the data file or folder involved, if any. The
    message says what is wrong and what was expected. The text is made printable
    (file names come from the experiment file, and may hold anything).
    """

    def __init__(self, field: str, message: str, file: str | Path | None = None):
        self.field = field
        self.file = str(file) if file is not None else None
        self.message = printable(message, keep_newlines=False)
        where = f"{printable(self.file, keep_newlines=False)}: " if self.file else ""
        super().__init__(f"{where}{field}: {self.message}")
