"""The table a new layer starts as: its ``type`` and its required fields only.

Optional fields stay out of the file (their defaults apply and the form shows
them as placeholders); required ones get a value a person would commonly pick,
so a freshly added layer usually fits the stack straight away.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic.fields import FieldInfo

from dltui.builder.fields import field_spec
from dltui.layers.registry import Layer, layer_kinds

# Common choices by field name. These are starting points, not per-kind forms:
# a kind whose required field is not here gets a value from its type and bounds.
_COMMON_VALUES: dict[str, Any] = {
    "out_features": 32,
    "out_channels": 16,
    "kernel_size": 3,
    "hidden_size": 64,
    "embedding_dim": 32,
    "embed_dim": 64,
    "d_model": 64,
    "num_embeddings": 128,
    "num_heads": 4,
    "nhead": 4,
    "dim_feedforward": 128,
    "num_layers": 1,
    "num_features": 16,
    "max_len": 512,
    "size": 32,
    "p": 0.5,
    "dims": [1, 0],  # swap the two axes of a sequence: (L, F) -> (F, L)
    "shape": [-1],  # flatten; the person edits it into the shape they want
}


class UnknownLayerKind(KeyError):
    """A layer type that is not registered; the message lists what is."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown layer kind"


def kind_class(kind: str) -> type[Layer]:
    """The registered class of ``kind``; raises `UnknownLayerKind` naming the known ones."""
    kinds = layer_kinds()
    if kind not in kinds:
        raise UnknownLayerKind(f"unknown layer type {kind!r}; known: {', '.join(kinds)}")
    return kinds[kind]


def new_layer(kind: str) -> dict[str, Any]:
    """``{"type": kind, ...required fields}`` for a layer just added in the builder."""
    cls = kind_class(kind)
    raw: dict[str, Any] = {"type": kind}
    for name, info in cls.model_fields.items():
        if name != "type" and info.is_required():
            raw[name] = _starting_value(name, info)
    return raw


def _starting_value(name: str, info: FieldInfo) -> Any:
    if _is_layer_list(info.annotation):
        return [new_layer(_simplest_kind())]
    spec = field_spec(name, info)
    common = _COMMON_VALUES.get(name)
    if spec is not None and common is not None:
        try:
            return spec.parse(spec.format(common))
        except ValueError:
            pass  # out of this field's bounds: fall back to the bounds themselves
    if spec is None:
        return None
    if spec.kind == "choice":
        return spec.choices[0]
    if spec.kind == "bool":
        return False
    if spec.kind in ("int", "float"):
        low = spec.ge if spec.ge is not None else (spec.gt + 1 if spec.gt is not None else 1)
        return int(low) if spec.kind == "int" else float(low)
    if spec.kind == "list":
        item: Any = 1 if spec.item_kind in ("int", "int_or_text") else 1.0
        if spec.item_kind == "text":
            item = ""
        if spec.scalar_ok:
            return item
        return [item] * (spec.length or max(spec.min_items, 1))
    return ""


def _is_layer_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not list:
        return False
    (item,) = typing.get_args(annotation) or (None,)
    if typing.get_origin(item) is typing.Annotated:
        item = typing.get_args(item)[0]
    members = typing.get_args(item) or (item,)
    return any(isinstance(m, type) and issubclass(m, Layer) for m in members)


def _simplest_kind() -> str:
    """A kind with no required fields (an activation, preferably) for nested stacks."""
    kinds = layer_kinds()
    free = [
        name
        for name, cls in kinds.items()
        if not any(i.is_required() for n, i in cls.model_fields.items() if n != "type")
    ]
    activations = [name for name in free if kinds[name].category == "activation"]
    return (activations or free or list(kinds))[0]
