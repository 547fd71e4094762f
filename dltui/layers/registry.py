"""The registry of layer kinds.

A layer kind is a `Layer` subclass: a pydantic model of its parameters (the
fields a person writes under ``[[model.layers]]``), a ``type`` literal that
names it in files, and a ``build`` method that makes the torch module for a
given per-sample input shape. The builder's forms, the validator and the model
builder all read the same classes, so a kind is defined in exactly one place.

Shapes are per sample: no batch dimension. Images are ``(C, H, W)``, sequences
``(L, F)`` (batch-first, like ``batch_first=True`` modules), token sequences
``(L,)``.

This module must not import torch at import time: validating an experiment
file (``dltui check``, the dashboard's browser) must stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import Field

from dltui.spec_model import SpecModel

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]
InputKind = Literal["float", "tokens", "any"]


def format_shape(shape: Sequence[int]) -> str:
    """``(3, 32, 32)``; a one-dimensional shape keeps Python's trailing comma: ``(64,)``."""
    return str(tuple(shape))


class LayerShapeError(ValueError):
    """The layer cannot take this input shape; the message says why and what fits."""


class LayerSelectorError(ValueError):
    """A selector (``model.freeze`` entry) names no layer of the stack."""


def select_layer(labels: Sequence[str], selector: int | str) -> int:
    """The index of the layer that ``selector`` picks among ``labels``.

    An int is an index (negative counts from the end); a string is a label (a
    layer's ``name`` or ``f"{index}_{type}"``). Raises `LayerSelectorError`
    naming the selector and what exists.
    """
    count = len(labels)
    if isinstance(selector, bool) or not isinstance(selector, (int, str)):
        raise LayerSelectorError(f"layer selector {selector!r} must be an index or a name")
    if isinstance(selector, int):
        if -count <= selector < count:
            return selector % count
        raise LayerSelectorError(
            f"no layer {selector}: the stack has {count} layers (indices 0..{count - 1})"
        )
    if selector in labels:
        return list(labels).index(selector)
    raise LayerSelectorError(f"no layer named {selector!r}; the layers are: {', '.join(labels)}")


class Layer(SpecModel):
    """Base of every layer kind. Subclasses declare ``type: Literal["name"]``."""

    type: str
    name: str | None = Field(
        default=None,
        description="Optional name, used by `freeze`, checkpoints and gradient-norm panes.",
    )

    category: ClassVar[str] = "core"
    """Group shown in the builder's palette: core, convolution, pooling, normalization,
    activation, recurrent, attention, structure."""

    shapes: ClassVar[str] = "(*) -> (*)"
    """Input -> output shape, per sample, for help texts and docs/layers.md."""

    input_kind: ClassVar[InputKind] = "float"
    """What values the layer takes: ``float`` (features), ``tokens`` (integer ids,
    e.g. embedding) or ``any`` (shape-only layers such as reshape)."""

    def check_input(self, in_shape: Shape) -> None:
        """Raise `LayerShapeError` when ``in_shape`` cannot feed this layer.

        Kinds override this to give a precise reason ("conv2d needs (C, H, W),
        got (64,)") before torch would fail with a less helpful one.
        """

    def build(self, in_shape: Shape) -> nn.Module:
        """The torch module for one sample shape ``in_shape`` (imports torch lazily)."""
        raise NotImplementedError

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """The output shape when it follows from the fields alone, else None.

        ``summarize_stack`` then skips running the layer: some modules (LSTM,
        attention) take hundreds of milliseconds on the meta device, and the
        builder summarises on every keystroke. None means "run it and see";
        tests compare every kind's answer with a real forward pass.
        """
        return None

    def summary(self) -> str:
        """A short description of the parameters that matter, for tables."""
        fields = [
            f"{k}={v}"
            for k, v in self.model_dump(exclude={"type", "name"}, exclude_defaults=True).items()
        ]
        return ", ".join(fields)


_KINDS: dict[str, type[Layer]] = {}


KindT = TypeVar("KindT", bound=Layer)


def register(cls: type[KindT]) -> type[KindT]:
    """Class decorator: make a layer kind available under its ``type`` literal."""
    literal = cls.model_fields["type"].annotation
    names: tuple[object, ...] = getattr(literal, "__args__", ())
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{cls.__name__}.type must be Literal['name']")
    if names[0] in _KINDS:
        raise ValueError(f"layer kind {names[0]!r} registered twice")
    _KINDS[names[0]] = cls
    return cls


def layer_kinds() -> dict[str, type[Layer]]:
    """Every registered kind by type name, in registration order."""
    _load_builtin_kinds()
    return dict(_KINDS)


def _load_builtin_kinds() -> None:
    import dltui.layers.kinds  # noqa: F401  (registers on import)


def any_layer_annotation() -> Any:
    """The discriminated union of every kind, for ``list[...]`` fields."""
    kinds = tuple(layer_kinds().values())
    return Annotated[Union[kinds], Field(discriminator="type")]  # noqa: UP007
