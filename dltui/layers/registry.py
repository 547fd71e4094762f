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

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Union

from pydantic import Field

from dltui.spec.base import SpecModel

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]


class LayerShapeError(ValueError):
    """The layer cannot take this input shape; the message says why and what fits."""


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

    def check_input(self, in_shape: Shape) -> None:
        """Raise `LayerShapeError` when ``in_shape`` cannot feed this layer.

        Kinds override this to give a precise reason ("conv2d needs (C, H, W),
        got (64,)") before torch would fail with a less helpful one.
        """

    def build(self, in_shape: Shape) -> nn.Module:
        """The torch module for one sample shape ``in_shape`` (imports torch lazily)."""
        raise NotImplementedError

    def summary(self) -> str:
        """A short description of the parameters that matter, for tables."""
        fields = [
            f"{k}={v}"
            for k, v in self.model_dump(exclude={"type", "name"}, exclude_defaults=True).items()
        ]
        return ", ".join(fields)


_KINDS: dict[str, type[Layer]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make a layer kind available under its ``type`` literal."""
    literal = cls.model_fields["type"].annotation
    names = getattr(literal, "__args__", ())
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
