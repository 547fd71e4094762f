"""Output-size arithmetic of sliding windows (convolution, pooling), without torch.

The kinds use it to explain, before torch does, why a window does not fit.
"""

from __future__ import annotations


def window_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window over ``size`` input positions."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def transposed_out(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int = 1
) -> int:
    """Output length of a transposed convolution over ``size`` input positions."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
