"""Normalization: batch norm (1-D or 2-D from the input rank), layer norm, group norm."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn


@register
class BatchNorm(Layer):
    """Normalise each channel over the batch: BatchNorm1d for (F,) or (C, L), 2d for (C, H, W)."""

    type: Literal["batchnorm"] = "batchnorm"
    category = "normalization"
    shapes = "(F,) | (C, L) | (C, H, W) -> same"
    momentum: float = Field(
        default=0.1, gt=0.0, le=1.0, description="Weight of the newest batch in running stats."
    )
    eps: float = Field(default=1e-5, gt=0.0, description="Added to the variance for stability.")
    affine: bool = Field(default=True, description="Learn a scale and shift per channel.")

    def check_input(self, in_shape: Shape) -> None:
        if not 1 <= len(in_shape) <= 3:
            raise LayerShapeError(
                f"batchnorm needs (F,), (C, L) or (C, H, W) input, got {format_shape(in_shape)}"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        norm = nn.BatchNorm2d if len(in_shape) == 3 else nn.BatchNorm1d
        return norm(in_shape[0], eps=self.eps, momentum=self.momentum, affine=self.affine)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class LayerNorm(Layer):
    """Normalise each position over its last dimension (features), as in transformers."""

    type: Literal["layernorm"] = "layernorm"
    category = "normalization"
    shapes = "(..., F) -> (..., F)"
    eps: float = Field(default=1e-5, gt=0.0, description="Added to the variance for stability.")
    elementwise_affine: bool = Field(default=True, description="Learn a scale and shift.")

    def check_input(self, in_shape: Shape) -> None:
        if not in_shape:
            raise LayerShapeError("layernorm needs at least one dimension to normalise over")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.LayerNorm(in_shape[-1], eps=self.eps, elementwise_affine=self.elementwise_affine)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class GroupNorm(Layer):
    """Normalise groups of channels of each sample (batch-size independent)."""

    type: Literal["groupnorm"] = "groupnorm"
    category = "normalization"
    shapes = "(C, ...) -> (C, ...)"
    num_groups: int = Field(ge=1, description="Number of channel groups; must divide C.")
    eps: float = Field(default=1e-5, gt=0.0, description="Added to the variance for stability.")
    affine: bool = Field(default=True, description="Learn a scale and shift per channel.")

    def check_input(self, in_shape: Shape) -> None:
        if not in_shape:
            raise LayerShapeError("groupnorm needs a channel dimension")
        channels = in_shape[0]
        if channels % self.num_groups:
            raise LayerShapeError(
                f"groupnorm with num_groups={self.num_groups} needs channels divisible by it, "
                f"but {format_shape(in_shape)} has {channels} channels"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.GroupNorm(self.num_groups, in_shape[0], eps=self.eps, affine=self.affine)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape
