"""Undo and redo as a bounded list of document snapshots.

Snapshots of the whole text are simple and always correct (an inverse
operation for every edit kind would not be), and experiment files are a few
kilobytes: 200 of them cost well under a megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EditHistory:
    """Texts before each edit (undo) and after each undone edit (redo)."""

    limit: int = 200
    _undo: list[str] = field(default_factory=list)
    _redo: list[str] = field(default_factory=list)
    _last_group: str | None = None

    def record(self, before: str, group: str | None = None) -> None:
        """Remember ``before`` as the state an undo returns to; a new edit clears redo.

        Consecutive edits of one ``group`` (the keystrokes typing ``128`` into
        one field) are one step: only the state before the first is kept.
        """
        self._redo.clear()
        if group is not None and group == self._last_group and self._undo:
            return
        self._last_group = group
        self._undo.append(before)
        if len(self._undo) > self.limit:
            del self._undo[0]

    def undo(self, current: str) -> str | None:
        """The text to return to, or ``None`` when there is nothing to undo."""
        self._last_group = None
        if not self._undo:
            return None
        self._redo.append(current)
        return self._undo.pop()

    def redo(self, current: str) -> str | None:
        """The text an undo left, or ``None`` when there is nothing to redo."""
        self._last_group = None
        if not self._redo:
            return None
        self._undo.append(current)
        return self._redo.pop()

    @property
    def can_undo(self) -> bool:
        """Whether `undo` would change anything."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether `redo` would change anything."""
        return bool(self._redo)
