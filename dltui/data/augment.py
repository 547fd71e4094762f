"""Random augmentation of a batch, vectorised, on whatever device the batch is on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dltui.data.errors import DataError

if TYPE_CHECKING:
    import torch

    from dltui.spec.data import Augment


def augment_batch(x: torch.Tensor, augment: Augment, generator: torch.Generator) -> torch.Tensor:
    """A randomly augmented copy of the batch ``x``; ``x`` itself is not modified.

    Image batches ``(B, C, H, W)`` get, per sample, a horizontal and/or vertical
    flip with probability 1/2, a shift of up to ``augment.shift`` pixels in each
    direction (the uncovered border is zero), and Gaussian noise of std
    ``augment.noise``. Other inputs take only noise; flips and shifts on them
    raise :class:`DataError`. Random numbers come from ``generator`` alone, so a
    seeded generator gives the same result every time; a generator on
    ``x.device`` avoids copying random numbers to the device.
    """
    import torch

    is_image = x.dim() == 4
    for name in ("flip_horizontal", "flip_vertical", "shift"):
        if getattr(augment, name) and not is_image:
            raise DataError(
                f"data.augment.{name}",
                f"applies to image batches (B, C, H, W); got a batch of shape {tuple(x.shape)}",
            )
    if not torch.is_floating_point(x) and augment.noise > 0:
        raise DataError("data.augment.noise", f"noise needs float inputs, got {x.dtype}")

    batch = x.shape[0]
    draw_device = generator.device

    def flags() -> torch.Tensor:
        coin = torch.rand(batch, generator=generator, device=draw_device) < 0.5
        return coin.to(x.device).view(batch, 1, 1, 1)

    out = x
    if augment.flip_horizontal:
        out = torch.where(flags(), out.flip(-1), out)
    if augment.flip_vertical:
        out = torch.where(flags(), out.flip(-2), out)
    if augment.shift > 0:
        out = _shift(out, augment.shift, generator)
    if augment.noise > 0:
        noise = torch.randn(out.shape, generator=generator, device=draw_device, dtype=out.dtype)
        out = out + noise.to(x.device) * augment.noise
    return out if out is not x else x.clone()


def _shift(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move each image by its own random offset in -shift..shift, filling with zeros.

    Pad by ``shift`` on every side, then gather one H x W window per sample with
    advanced indexing: one kernel for the whole batch, no Python loop.
    """
    import torch
    import torch.nn.functional as F

    batch, channels, height, width = x.shape
    offsets = torch.randint(
        0, 2 * shift + 1, (2, batch), generator=generator, device=generator.device
    ).to(x.device)
    padded = F.pad(x, (shift, shift, shift, shift))
    rows = offsets[0].view(batch, 1) + torch.arange(height, device=x.device)
    cols = offsets[1].view(batch, 1) + torch.arange(width, device=x.device)
    return padded[
        torch.arange(batch, device=x.device).view(batch, 1, 1, 1),
        torch.arange(channels, device=x.device).view(1, channels, 1, 1),
        rows.view(batch, 1, height, 1),
        cols.view(batch, 1, 1, width),
    ]
