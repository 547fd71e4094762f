"""Messages the builder's widgets and workers post to the builder screen."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from dltui.builder.shapes import StackShapes


class ShapesComputed(Message):
    """The shape worker finished; a newer result replaces an older queued one."""

    def __init__(self, shapes: StackShapes) -> None:
        super().__init__()
        self.shapes = shapes

    def can_replace(self, message: Message) -> bool:
        """A queued older result is pointless once this one exists."""
        return isinstance(message, ShapesComputed)


class ShapesFailed(Message):
    """The shape worker raised; ``error`` says what went wrong."""

    def __init__(self, error: str, revision: int) -> None:
        super().__init__()
        self.error = error
        self.revision = revision


class FieldEdited(Message):
    """A form field now holds a valid ``value`` (`REMOVE` when cleared) for ``key``."""

    def __init__(self, form_id: str, key: str, value: Any) -> None:
        super().__init__()
        self.form_id = form_id
        self.key = key
        self.value = value


class ModelChecked(Message):
    """`dltui check` ran on revision ``revision`` of the document: ``problems`` (empty: valid)."""

    def __init__(self, revision: int, problems: list[str]) -> None:
        super().__init__()
        self.revision = revision
        self.problems = problems
