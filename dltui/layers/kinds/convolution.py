"""Convolutions: conv1d over (C, L), conv2d over (C, H, W), and conv_transpose2d."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from dltui.layers.geometry import transposed_out, window_out
from dltui.layers.kinds.core import require_rank
from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn


class Convolution(Layer):
    """What conv1d and conv2d share: channels, window, stride, padding, dilation, groups."""

    category = "convolution"
    spatial_dims: ClassVar[int] = 2

    out_channels: int = Field(ge=1, description="Number of filters (output channels).")
    kernel_size: int = Field(ge=1, description="Window size (square for conv2d).")
    stride: int = Field(default=1, ge=1, description="Step between windows.")
    padding: Annotated[int, Field(ge=0)] | Literal["same", "valid"] = Field(
        default=0,
        description='Zeros added on each side: a number, "same" (keep the size; stride 1) '
        'or "valid" (none).',
    )
    dilation: int = Field(default=1, ge=1, description="Spacing between window taps.")
    groups: int = Field(
        default=1, ge=1, description="Split channels into groups (in_channels for depthwise)."
    )
    bias: bool = Field(default=True, description="Learn a bias per output channel.")

    @field_validator("padding")
    @classmethod
    def _same_needs_stride_one(cls, value: int | str, info: ValidationInfo) -> int | str:
        stride = info.data.get("stride", 1)
        if value == "same" and stride != 1:
            raise ValueError(
                f'"same" padding needs stride 1 (stride is {stride}); give a number, '
                f"e.g. {info.data.get('kernel_size', 3) // 2}"
            )
        return value

    @field_validator("groups")
    @classmethod
    def _groups_divide_out(cls, value: int, info: ValidationInfo) -> int:
        out = info.data.get("out_channels")
        if out is not None and out % value:
            raise ValueError(f"must divide out_channels ({out}), got {value}")
        return value

    def layout(self) -> str:
        """The input layout in words, e.g. "(C, H, W)"."""
        return "(C, L)" if self.spatial_dims == 1 else "(C, H, W)"

    def numeric_padding(self) -> int:
        """Padding per side as a number ("same" resolved for the size check)."""
        if self.padding == "valid":
            return 0
        if self.padding == "same":
            return self.dilation * (self.kernel_size - 1) // 2
        return self.padding

    def check_input(self, in_shape: Shape) -> None:
        hint = (
            "add a reshape layer, or use dense"
            if len(in_shape) == 1
            else f"reshape or permute to {self.layout()}"
        )
        require_rank(self.type, in_shape, self.spatial_dims + 1, self.layout(), hint)
        channels = in_shape[0]
        if channels % self.groups:
            raise LayerShapeError(
                f"{self.type} with groups={self.groups} needs input channels divisible by "
                f"{self.groups}, got {channels} channels in {format_shape(in_shape)}"
            )
        if self.padding == "same":
            return
        pad = self.numeric_padding()
        sizes = in_shape[1:]
        out = [window_out(s, self.kernel_size, self.stride, pad, self.dilation) for s in sizes]
        if min(out) < 1:
            span = self.dilation * (self.kernel_size - 1) + 1
            raise LayerShapeError(
                f"{self.type} window of {span} (kernel_size={self.kernel_size}, dilation="
                f"{self.dilation}) does not fit input {format_shape(in_shape)} with padding "
                f"{pad}: lower kernel_size, add padding, or pool less before it"
            )

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """(out_channels, sizes after the window)."""
        if self.padding == "same":
            return (self.out_channels, *in_shape[1:])
        pad = self.numeric_padding()
        return (
            self.out_channels,
            *(
                window_out(s, self.kernel_size, self.stride, pad, self.dilation)
                for s in in_shape[1:]
            ),
        )

    def torch_padding(self) -> int | str:
        """The padding argument for torch ("same"/"valid" passed through)."""
        return self.padding

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        conv = nn.Conv1d if self.spatial_dims == 1 else nn.Conv2d
        return conv(
            in_shape[0],
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.torch_padding(),
            dilation=self.dilation,
            groups=self.groups,
            bias=self.bias,
        )


@register
class Conv1d(Convolution):
    """1-D convolution over (C, L): channels first, e.g. audio or a permuted sequence."""

    type: Literal["conv1d"] = "conv1d"
    shapes = "(C, L) -> (out_channels, L')"
    spatial_dims = 1


@register
class Conv2d(Convolution):
    """2-D convolution over images (C, H, W)."""

    type: Literal["conv2d"] = "conv2d"
    shapes = "(C, H, W) -> (out_channels, H', W')"
    spatial_dims = 2


@register
class ConvTranspose2d(Layer):
    """Transposed 2-D convolution: upsamples (C, H, W), e.g. in a GAN generator."""

    type: Literal["conv_transpose2d"] = "conv_transpose2d"
    category = "convolution"
    shapes = (
        "(C, H, W) -> (out_channels, (H-1)*stride - 2*padding + kernel_size + output_padding, ...)"
    )
    out_channels: int = Field(ge=1, description="Number of output channels.")
    kernel_size: int = Field(ge=1, description="Window size (square), e.g. 4.")
    stride: int = Field(default=1, ge=1, description="Upsampling factor, e.g. 2.")
    padding: int = Field(default=0, ge=0, description="Rows/columns removed from each side.")
    output_padding: int = Field(
        default=0, ge=0, description="Extra rows/columns on one side; below stride."
    )
    bias: bool = Field(default=True, description="Learn a bias per output channel.")

    @field_validator("output_padding")
    @classmethod
    def _below_stride(cls, value: int, info: ValidationInfo) -> int:
        stride = info.data.get("stride")
        if stride is not None and value >= stride:
            raise ValueError(f"must be smaller than stride ({stride}), got {value}")
        return value

    def check_input(self, in_shape: Shape) -> None:
        hint = "add a reshape layer, e.g. shape = [C, 1, 1] after a dense layer"
        require_rank("conv_transpose2d", in_shape, 3, "(C, H, W)", hint)
        out = [
            transposed_out(s, self.kernel_size, self.stride, self.padding, self.output_padding)
            for s in in_shape[1:]
        ]
        if min(out) < 1:
            raise LayerShapeError(
                f"conv_transpose2d on {format_shape(in_shape)} would give size "
                f"{out[0]}x{out[1]}: padding {self.padding} is too large for kernel_size "
                f"{self.kernel_size}"
            )

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """(out_channels, upsampled H, upsampled W)."""
        sizes = (
            transposed_out(s, self.kernel_size, self.stride, self.padding, self.output_padding)
            for s in in_shape[1:]
        )
        return (self.out_channels, *sizes)

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.ConvTranspose2d(
            in_shape[0],
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            output_padding=self.output_padding,
            bias=self.bias,
        )
