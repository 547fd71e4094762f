"""Structure: ``residual``, a nested sub-stack with a skip connection.

``layers`` holds any layer kinds, residual included, so its annotation names the
union of every kind. That union exists only once all kinds are registered:
`rebuild_nested_kinds` (called by `dltui.layers.kinds` after importing every
family) resolves it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dltui.layers.registry import (
    Layer,
    LayerShapeError,
    Shape,
    any_layer_annotation,
    format_shape,
    register,
)

if TYPE_CHECKING:
    from torch import nn

    # For type checkers a nested layer is any Layer; at run time the name is left
    # undefined so pydantic waits for `rebuild_nested_kinds` to supply the union.
    AnyLayer = Layer


@register
class Residual(Layer):
    """output = layers(x) + projection(x): a sub-stack with a skip connection (ResNet)."""

    type: Literal["residual"] = "residual"
    category = "structure"
    shapes = "(*) -> the sub-stack's output shape"
    input_kind = "any"
    layers: list[AnyLayer] = Field(
        min_length=1, description="The sub-stack applied to the input (any layer kinds)."
    )
    projection: Literal["auto", "none"] = Field(
        default="auto",
        description="auto: identity when shapes match, else a 1x1 convolution (images, "
        "(C, L)) or a linear map (vectors, sequences); none: shapes must match.",
    )

    def summary(self) -> str:
        """The sub-stack's kinds and the projection, e.g. "conv2d, batchnorm, relu"."""
        kinds = ", ".join(layer.type for layer in self.layers)
        return f"[{kinds}]" + (", projection=none" if self.projection == "none" else "")

    def build(self, in_shape: Shape) -> nn.Module:
        """The block for ``in_shape``; a sub-layer that does not fit raises LayerShapeError."""
        from dltui.layers.stack import build_residual

        return build_residual(self, in_shape)

    def projection_for(self, in_shape: Shape, out_shape: Shape) -> nn.Module:
        """The skip path's module from ``in_shape`` to the sub-stack's ``out_shape``.

        Raises `LayerShapeError` naming both shapes when no projection can map one
        onto the other.
        """
        from torch import nn

        if in_shape == out_shape:
            return nn.Identity()
        where = (
            f"residual: the sub-stack maps {format_shape(in_shape)} to {format_shape(out_shape)}"
        )
        if self.projection == "none":
            raise LayerShapeError(
                f'{where}, but projection = "none" needs the same shape: keep the shape '
                'in the sub-stack or set projection = "auto"'
            )
        if len(in_shape) != len(out_shape):
            raise LayerShapeError(
                f"{where}: the skip path cannot change the number of dimensions; end the "
                "sub-stack with the same layout it starts with"
            )
        if len(in_shape) == 1:
            return nn.Linear(in_shape[0], out_shape[0])
        if len(in_shape) == 2 and in_shape[0] == out_shape[0]:
            # (L, F) sequences keep their length and change features.
            return nn.Linear(in_shape[1], out_shape[1])
        if len(in_shape) in (2, 3):
            stride = _skip_stride(in_shape[1:], out_shape[1:])
            if stride is not None:
                conv = nn.Conv1d if len(in_shape) == 2 else nn.Conv2d
                return conv(in_shape[0], out_shape[0], kernel_size=1, stride=stride)
            raise LayerShapeError(
                f"{where}: a 1x1 convolution on the skip path can change channels and "
                f"downsample by a whole stride, but not size {_size(in_shape[1:])} -> "
                f"{_size(out_shape[1:])}: use padding so the sub-stack keeps the size, "
                "or a stride that divides it"
            )
        raise LayerShapeError(
            f"{where}: no projection for {len(in_shape)}-dimensional inputs; keep the shape"
        )


def _size(sizes: Shape) -> str:
    return "x".join(str(s) for s in sizes)


def _skip_stride(in_sizes: Shape, out_sizes: Shape) -> int | None:
    """The stride s with ceil(in/s) == out in every spatial dim (a strided 1x1 conv), or None."""
    if any(o < 1 or o > i for i, o in zip(in_sizes, out_sizes, strict=True)):
        return None
    guess = math.ceil(in_sizes[0] / out_sizes[0])
    for stride in (guess - 1, guess, guess + 1):
        if stride >= 1 and all(
            math.ceil(i / stride) == o for i, o in zip(in_sizes, out_sizes, strict=True)
        ):
            return stride
    return None


def rebuild_nested_kinds() -> None:
    """Resolve ``Residual.layers`` to the union of every registered kind (recursively)."""
    Residual.model_rebuild(force=True, _types_namespace={"AnyLayer": any_layer_annotation()})
