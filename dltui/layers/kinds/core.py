"""Dense layers and activations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dltui.layers.registry import Layer, LayerShapeError, Shape, register

if TYPE_CHECKING:
    from torch import nn


@register
class Dense(Layer):
    """Fully connected layer on the last dimension (torch.nn.Linear)."""

    type: Literal["dense"] = "dense"
    out_features: int = Field(ge=1, description="Number of output units.")
    bias: bool = True

    def check_input(self, in_shape: Shape) -> None:
        if len(in_shape) < 1:
            raise LayerShapeError("dense needs at least one input dimension")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Linear(in_shape[-1], self.out_features, bias=self.bias)


@register
class ReLU(Layer):
    """max(0, x)."""

    type: Literal["relu"] = "relu"
    category = "activation"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ReLU()
