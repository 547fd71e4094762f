"""The one error every data source raises: what is wrong, in which field and which file."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Data that cannot be used as asked.

    ``field`` is the experiment-file path of the setting at fault (``data.target``,
    ``data.split.val``); ``file`` the data file or folder involved, if any. The
    message says what is wrong and what was expected.
    """

    def __init__(self, field: str, message: str, file: str | Path | None = None):
        self.field = field
        self.file = str(file) if file is not None else None
        self.message = message
        where = f"{self.file}: " if self.file else ""
        super().__init__(f"{where}{field}: {message}")
