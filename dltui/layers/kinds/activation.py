"""Element-wise activations and the (log-)softmax over one dimension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationInfo, field_validator

from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn


class Activation(Layer):
    """Base of the element-wise activations: any shape in, the same shape out."""

    category = "activation"
    shapes = "(*) -> (*)"

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class ReLU(Activation):
    """max(0, x)."""

    type: Literal["relu"] = "relu"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ReLU()


@register
class LeakyReLU(Activation):
    """x for x > 0, negative_slope * x otherwise."""

    type: Literal["leaky_relu"] = "leaky_relu"
    negative_slope: float = Field(
        default=0.01, ge=0.0, description="Slope for negative inputs (0 gives relu)."
    )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.LeakyReLU(self.negative_slope)


@register
class ELU(Activation):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    type: Literal["elu"] = "elu"
    alpha: float = Field(
        default=1.0, gt=0.0, description="Value the output tends to for x -> -inf, negated."
    )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ELU(self.alpha)


@register
class SELU(Activation):
    """Scaled ELU with the self-normalising constants (pair with lecun-normal init)."""

    type: Literal["selu"] = "selu"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.SELU()


@register
class GELU(Activation):
    """x * Phi(x), the Gaussian error linear unit of transformers."""

    type: Literal["gelu"] = "gelu"
    approximate: Literal["none", "tanh"] = Field(
        default="none", description="Exact (none) or the faster tanh approximation."
    )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.GELU(approximate=self.approximate)


@register
class SiLU(Activation):
    """x * sigmoid(x) (also called swish)."""

    type: Literal["silu"] = "silu"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.SiLU()


@register
class Mish(Activation):
    """x * tanh(softplus(x))."""

    type: Literal["mish"] = "mish"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Mish()


@register
class Softplus(Activation):
    """log(1 + exp(beta * x)) / beta, a smooth relu."""

    type: Literal["softplus"] = "softplus"
    beta: float = Field(default=1.0, gt=0.0, description="Sharpness: larger is closer to relu.")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Softplus(beta=self.beta)


@register
class Sigmoid(Activation):
    """1 / (1 + exp(-x)), into (0, 1)."""

    type: Literal["sigmoid"] = "sigmoid"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Sigmoid()


@register
class Tanh(Activation):
    """tanh(x), into (-1, 1)."""

    type: Literal["tanh"] = "tanh"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Tanh()


@register
class Hardtanh(Activation):
    """x clipped to [min_val, max_val]."""

    type: Literal["hardtanh"] = "hardtanh"
    min_val: float = Field(default=-1.0, description="Lower clip value.")
    max_val: float = Field(default=1.0, description="Upper clip value; above min_val.")

    @field_validator("max_val")
    @classmethod
    def _above_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("min_val")
        if low is not None and value <= low:
            raise ValueError(f"must be greater than min_val ({low}), got {value}")
        return value

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Hardtanh(self.min_val, self.max_val)


class SoftmaxBase(Activation):
    """Shared checks of softmax and log_softmax: ``dim`` must exist in the sample."""

    dim: int = Field(
        default=-1,
        description="Per-sample dimension to normalise over (0 = first after the batch; "
        "-1 = last).",
    )

    def check_input(self, in_shape: Shape) -> None:
        if not -len(in_shape) <= self.dim < len(in_shape):
            raise LayerShapeError(
                f"{self.type} over dim {self.dim}, but the input {format_shape(in_shape)} has "
                f"dims 0..{len(in_shape) - 1} (or -1..-{len(in_shape)})"
            )

    def batch_dim(self) -> int:
        """``dim`` counted in the batched tensor."""
        return self.dim if self.dim < 0 else self.dim + 1


@register
class Softmax(SoftmaxBase):
    """exp(x) / sum(exp(x)) over ``dim``: probabilities (use no softmax before cross-entropy)."""

    type: Literal["softmax"] = "softmax"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Softmax(dim=self.batch_dim())


@register
class LogSoftmax(SoftmaxBase):
    """log(softmax(x)) over ``dim``, computed stably (pairs with an NLL loss)."""

    type: Literal["log_softmax"] = "log_softmax"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.LogSoftmax(dim=self.batch_dim())


@register
class PReLU(Activation):
    """Leaky relu whose negative slope is learned (one, or one per channel)."""

    type: Literal["prelu"] = "prelu"
    num_parameters: int = Field(
        default=1,
        ge=1,
        description="1 (a shared slope) or the number of channels: the first per-sample dim.",
    )
    init: float = Field(default=0.25, description="Initial slope.")

    def check_input(self, in_shape: Shape) -> None:
        if self.num_parameters > 1 and (not in_shape or in_shape[0] != self.num_parameters):
            raise LayerShapeError(
                f"prelu with num_parameters={self.num_parameters} needs that many channels "
                f"(the first dimension), got {format_shape(in_shape)}: set num_parameters to "
                f"1 or {in_shape[0] if in_shape else 1}"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.PReLU(self.num_parameters, init=self.init)
