"""What a form needs to know about one field of a spec model, read from pydantic.

The builder's forms are generated, never hand-written per layer kind: each
field's annotation says which input to show (a choice list for ``Literal`` and
``bool``, a number box for ``int``/``float``, comma-separated values for tuples
and lists, text otherwise), and its ``metadata`` gives the bounds checked while
the person types. Parsing the typed text back into a value lives here too, so
the rules are tested without a terminal.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

FieldKind = Literal["choice", "bool", "int", "float", "text", "list", "int_or_choice"]
ItemKind = Literal["int", "float", "text", "int_or_text"]


class _Remove:
    """Sentinel: the field's key is removed from the file (its default applies)."""

    _instance: _Remove | None = None

    def __new__(cls) -> _Remove:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()
"""Value meaning "take the key out of the file", as when an input is cleared."""


class FieldValueError(ValueError):
    """Typed text that is not a valid value for the field; the message says what is."""


@dataclass(frozen=True)
class FieldSpec:
    """One editable field: how to show it and how to read what was typed."""

    name: str
    kind: FieldKind
    description: str = ""
    required: bool = False
    default: Any = None
    optional: bool = False
    """``None`` is a valid value (an empty input means "not set")."""
    choices: tuple[str, ...] = ()
    item_kind: ItemKind = "text"
    length: int | None = None
    """A fixed number of items (``tuple[int, int]``); ``None`` for any number."""
    scalar_ok: bool = False
    """A single item may stand alone (``int | tuple[int, int]``)."""
    min_items: int = 0
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @property
    def bounds_text(self) -> str:
        """The allowed range in words, e.g. ``≥ 1`` or ``> 0 and ≤ 10``; empty when unbounded."""
        parts = []
        if self.ge is not None:
            parts.append(f"≥ {self.ge:g}")
        if self.gt is not None:
            parts.append(f"> {self.gt:g}")
        if self.le is not None:
            parts.append(f"≤ {self.le:g}")
        if self.lt is not None:
            parts.append(f"< {self.lt:g}")
        return " and ".join(parts)

    @property
    def placeholder(self) -> str:
        """What an empty input means: the default, "required", or "not set"."""
        if self.required:
            return "required"
        if self.default is None:
            return "not set"
        return f"default: {self.format(self.default)}"

    def format(self, value: Any) -> str:
        """The text an input shows for ``value`` (the inverse of `parse`)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple)):
            return ", ".join(self._format_item(v) for v in value)
        return self._format_item(value)

    @staticmethod
    def _format_item(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        return str(value)

    def parse(self, text: str) -> Any:
        """The value for typed ``text``; `REMOVE` for an empty optional or defaulted field.

        Raises `FieldValueError` with a message fit to show under the input.
        """
        text = text.strip()
        if not text:
            if self.required:
                raise FieldValueError(f"{self.name} is required")
            return REMOVE
        if self.kind == "choice":
            if text not in self.choices:
                raise FieldValueError(f"expected one of {', '.join(self.choices)}")
            return text
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise FieldValueError("expected true or false")
        if self.kind == "int":
            return self._check_bounds(_parse_int(text))
        if self.kind == "int_or_choice":
            if text in self.choices:
                return text
            try:
                return self._check_bounds(int(text.replace("_", "")))
            except ValueError:
                raise FieldValueError(
                    f"expected a whole number or one of {', '.join(self.choices)}"
                ) from None
        if self.kind == "float":
            return self._check_bounds(_parse_float(text))
        if self.kind == "list":
            return self._parse_list(text)
        return text

    def _parse_list(self, text: str) -> Any:
        pieces = [p.strip() for p in text.strip("[]()").split(",")]
        if pieces and pieces[-1] == "":
            pieces.pop()  # a trailing comma is harmless
        if any(p == "" for p in pieces):
            raise FieldValueError("an item is empty; separate values with commas")
        items = [self._check_bounds(self._parse_item(p)) for p in pieces]
        if self.scalar_ok and len(items) == 1:
            return items[0]
        if self.length is not None and len(items) != self.length:
            single = " (or a single value)" if self.scalar_ok else ""
            raise FieldValueError(f"expected {self.length} comma-separated values{single}")
        if len(items) < self.min_items:
            raise FieldValueError(f"expected at least {self.min_items} values")
        return items

    def _parse_item(self, text: str) -> Any:
        if self.item_kind == "int":
            return _parse_int(text)
        if self.item_kind == "float":
            return _parse_float(text)
        if self.item_kind == "int_or_text":
            try:
                return int(text)
            except ValueError:
                return text
        return text

    def _check_bounds(self, value: Any) -> Any:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return value
        ok = (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )
        if not ok:
            raise FieldValueError(f"must be {self.bounds_text}")
        return value


def _parse_int(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise FieldValueError(f"expected a whole number, got {text!r}") from None


def _parse_float(text: str) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise FieldValueError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise FieldValueError("expected a finite number")
    return value


def fields_of(
    model: type[BaseModel], *, exclude: typing.Iterable[str] = ("type",)
) -> list[FieldSpec]:
    """The editable fields of ``model`` in declaration order.

    Fields a single input cannot edit (nested tables, nested layer lists) are
    left out; their own forms or the stack handle them.
    """
    skipped = set(exclude)
    specs = []
    for name, info in model.model_fields.items():
        if name in skipped:
            continue
        spec = field_spec(name, info)
        if spec is not None:
            specs.append(spec)
    return specs


def field_spec(name: str, info: FieldInfo) -> FieldSpec | None:
    """The `FieldSpec` of one pydantic field, or ``None`` when no single input fits it."""
    annotation, optional = _strip_optional(info.annotation)
    required = info.is_required()
    default = None if required else _default_of(info)
    bounds = _bounds(info.metadata)
    common: dict[str, Any] = {
        "name": name,
        "description": info.description or "",
        "required": required,
        "default": default,
        "optional": optional,
        **bounds,
    }
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = tuple(str(a) for a in typing.get_args(annotation))
        return FieldSpec(kind="choice", choices=choices, **common)
    if annotation is bool:
        return FieldSpec(kind="bool", choices=("true", "false"), **common)
    if annotation is int:
        return FieldSpec(kind="int", **common)
    if annotation is float:
        return FieldSpec(kind="float", **common)
    if annotation in (str, Path):
        return FieldSpec(kind="text", **common)
    number_or_word = _int_or_literal(annotation)
    if number_or_word is not None:
        choices, inner_bounds = number_or_word
        common.update({k: v for k, v in inner_bounds.items() if k not in bounds})
        return FieldSpec(kind="int_or_choice", choices=choices, **common)
    sequence = _sequence_shape(annotation)
    if sequence is not None:
        item_kind, length, scalar_ok = sequence
        min_items = next(
            (m.min_length for m in info.metadata if isinstance(m, annotated_types.MinLen)), 0
        )
        return FieldSpec(
            kind="list",
            item_kind=item_kind,
            length=length,
            scalar_ok=scalar_ok,
            min_items=min_items,
            **common,
        )
    return None


def _int_or_literal(annotation: Any) -> tuple[tuple[str, ...], dict[str, float]] | None:
    """``int | Literal["same", "valid"]`` (``padding``): the words and the int's bounds."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    choices: list[str] = []
    bounds: dict[str, float] = {}
    has_int = False
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            base, *metadata = typing.get_args(arg)
            if base is not int:
                return None
            has_int = True
            for item in metadata:
                bounds.update(_bounds(getattr(item, "metadata", [item])))
        elif arg is int:
            has_int = True
        elif typing.get_origin(arg) is Literal:
            choices.extend(str(a) for a in typing.get_args(arg))
        else:
            return None
    return (tuple(choices), bounds) if has_int and choices else None


def _default_of(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return None
    value = info.default
    return list(value) if isinstance(value, tuple) else value


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (``X``, True); other annotations unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return annotation, False


def _bounds(metadata: list[Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in metadata:
        for attr in ("ge", "gt", "le", "lt"):
            value = getattr(item, attr, None)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[attr] = float(value)
    return out


_ITEM_KINDS: dict[Any, ItemKind] = {int: "int", float: "float", str: "text", Path: "text"}


def _item_kind(annotation: Any) -> ItemKind | None:
    if annotation in _ITEM_KINDS:
        return _ITEM_KINDS[annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = set(typing.get_args(annotation))
        if args == {int, str}:
            return "int_or_text"
    return None


def _sequence_shape(annotation: Any) -> tuple[ItemKind, int | None, bool] | None:
    """(item kind, fixed length, scalar allowed) of a list/tuple annotation, or None."""
    scalar_ok = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        # ``int | tuple[int, int]``: one value or several.
        args = typing.get_args(annotation)
        sequences = [a for a in args if typing.get_origin(a) in (list, tuple)]
        scalars = [a for a in args if a in _ITEM_KINDS]
        if len(sequences) != 1 or len(scalars) + 1 != len(args):
            return None
        annotation, scalar_ok = sequences[0], True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and len(args) == 1:
        kind = _item_kind(args[0])
        return (kind, None, scalar_ok) if kind else None
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        kind = _item_kind(args[0])
        return (kind, None, scalar_ok) if kind else None
    if origin is tuple and args and len(set(args)) == 1:
        kind = _item_kind(args[0])
        return (kind, len(args), scalar_ok) if kind else None
    return None
