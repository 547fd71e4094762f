"""Messages the builder's widgets and workers post to the builder screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from dltui.builder.shapes import StackShapes


@dataclass
class ShapesComputed(Message):
    """The shape worker finished (or failed: ``shapes.problem`` says why); a newer result
    replaces an older queued one."""

    shapes: StackShapes

    def can_replace(self, message: Message) -> bool:
        """A queued older result is pointless once this one exists."""
        return isinstance(message, ShapesComputed)


@dataclass
class FieldEdited(Message):
    """A form field now holds a valid ``value`` (`REMOVE` when cleared) for ``key``."""

    form_id: str
    key: str
    value: Any


@dataclass
class ModelChecked(Message):
    """`dltui check` ran on revision ``revision`` of the document: ``problems`` (empty: valid)."""

    revision: int
    problems: list[str]

    def can_replace(self, message: Message) -> bool:
        """Only the newest revision's verdict is shown."""
        return isinstance(message, ModelChecked) and message.revision >= self.revision
