"""Pooling: windowed max/average, adaptive, global average, and sequence pooling."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from dltui.layers.geometry import window_out
from dltui.layers.kinds.core import require_rank
from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn


class WindowPool(Layer):
    """What the windowed poolings share: kernel_size, stride (default: kernel_size), padding."""

    category = "pooling"
    spatial_dims: ClassVar[int] = 2

    kernel_size: int = Field(default=2, ge=1, description="Window size (square for 2-D).")
    stride: int | None = Field(
        default=None, ge=1, description="Step between windows; default: kernel_size."
    )
    padding: int = Field(
        default=0, ge=0, description="Implicit padding on each side; at most kernel_size / 2."
    )

    @field_validator("padding")
    @classmethod
    def _at_most_half_kernel(cls, value: int, info: ValidationInfo) -> int:
        kernel = info.data.get("kernel_size")
        if kernel is not None and value > kernel // 2:
            raise ValueError(f"must be at most half of kernel_size ({kernel // 2}), got {value}")
        return value

    @property
    def step(self) -> int:
        """The effective stride."""
        return self.stride if self.stride is not None else self.kernel_size

    def check_input(self, in_shape: Shape) -> None:
        layout = "(C, L)" if self.spatial_dims == 1 else "(C, H, W)"
        other = "1d" if self.spatial_dims == 2 else "2d"
        hint = f"use {self.type[:-2]}{other} for {'(C, L)' if other == '1d' else '(C, H, W)'}"
        if len(in_shape) == 1:
            hint = "pooling needs spatial dimensions; add a reshape layer"
        require_rank(self.type, in_shape, self.spatial_dims + 1, layout, hint)
        out = self.output_shape(in_shape)[1:]
        if min(out) < 1:
            raise LayerShapeError(
                f"{self.type} window {self.kernel_size} does not fit input "
                f"{format_shape(in_shape)}: lower kernel_size or remove a pooling layer"
            )

    def output_shape(self, in_shape: Shape) -> Shape:
        """(C, sizes after the window)."""
        sizes = (window_out(s, self.kernel_size, self.step, self.padding) for s in in_shape[1:])
        return (in_shape[0], *sizes)


@register
class MaxPool1d(WindowPool):
    """Maximum over windows of a (C, L) signal."""

    type: Literal["maxpool1d"] = "maxpool1d"
    shapes = "(C, L) -> (C, L')"
    spatial_dims = 1

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.MaxPool1d(self.kernel_size, self.step, self.padding)


@register
class MaxPool2d(WindowPool):
    """Maximum over windows of an image (C, H, W)."""

    type: Literal["maxpool2d"] = "maxpool2d"
    shapes = "(C, H, W) -> (C, H', W')"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.MaxPool2d(self.kernel_size, self.step, self.padding)


@register
class AvgPool1d(WindowPool):
    """Mean over windows of a (C, L) signal."""

    type: Literal["avgpool1d"] = "avgpool1d"
    shapes = "(C, L) -> (C, L')"
    spatial_dims = 1

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.AvgPool1d(self.kernel_size, self.step, self.padding)


@register
class AvgPool2d(WindowPool):
    """Mean over windows of an image (C, H, W)."""

    type: Literal["avgpool2d"] = "avgpool2d"
    shapes = "(C, H, W) -> (C, H', W')"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.AvgPool2d(self.kernel_size, self.step, self.padding)


class AdaptivePool(Layer):
    """Pool an image to a fixed output_size x output_size, whatever its size."""

    category = "pooling"
    shapes = "(C, H, W) -> (C, output_size, output_size)"
    output_size: int = Field(default=1, ge=1, description="Output height and width.")

    def check_input(self, in_shape: Shape) -> None:
        require_rank(
            self.type, in_shape, 3, "(C, H, W)", "use global_avgpool or sequence_pool otherwise"
        )

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """(C, output_size, output_size)."""
        return (in_shape[0], self.output_size, self.output_size)


@register
class AdaptiveAvgPool2d(AdaptivePool):
    """Average pooling to a fixed output size."""

    type: Literal["adaptive_avgpool2d"] = "adaptive_avgpool2d"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.AdaptiveAvgPool2d(self.output_size)


@register
class AdaptiveMaxPool2d(AdaptivePool):
    """Max pooling to a fixed output size."""

    type: Literal["adaptive_maxpool2d"] = "adaptive_maxpool2d"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.AdaptiveMaxPool2d(self.output_size)


@register
class GlobalAvgPool(Layer):
    """Average each channel over all its positions: (C, ...) -> (C,)."""

    type: Literal["global_avgpool"] = "global_avgpool"
    category = "pooling"
    shapes = "(C, ...) -> (C,)"

    def check_input(self, in_shape: Shape) -> None:
        if len(in_shape) < 2:
            raise LayerShapeError(
                f"global_avgpool needs channels and positions, (C, L) or (C, H, W), got "
                f"{format_shape(in_shape)}: the input is already one vector"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import GlobalAvgPool as GlobalAvgPoolModule

        return GlobalAvgPoolModule()

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """One value per channel."""
        return (in_shape[0],)


@register
class SequencePool(Layer):
    """Reduce a sequence (L, F) to one vector (F,): mean, max, first or last step."""

    type: Literal["sequence_pool"] = "sequence_pool"
    category = "pooling"
    shapes = "(L, F) -> (F,)"
    mode: Literal["mean", "max", "first", "last"] = Field(
        default="mean", description="How to combine the steps."
    )

    def check_input(self, in_shape: Shape) -> None:
        require_rank("sequence_pool", in_shape, 2, "(L, F)", "for images use global_avgpool")

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import SequencePool as SequencePoolModule

        return SequencePoolModule(self.mode)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """One feature vector."""
        return (in_shape[-1],)
