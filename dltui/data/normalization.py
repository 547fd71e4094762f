"""Feature scaling with statistics from the training split only.

Statistics are per feature: per channel for images ``(C, H, W)``, per last-axis
feature for vectors ``(F,)`` and sequences ``(L, F)``. Using only the training
split keeps validation and test numbers honest (no peeking at their range).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits


def _reduce_axes(sample_ndim: int) -> tuple[int, ...]:
    """Batch axes to reduce over, keeping the feature (or channel) axis."""
    if sample_ndim == 3:  # images: keep C of (N, C, H, W)
        return (0, 2, 3)
    return tuple(range(sample_ndim))  # keep the last axis of (N, ..., F)


def normalize_splits(
    splits: ArraySplits, mode: Literal["none", "standard", "minmax"]
) -> ArraySplits:
    """Scale the inputs of every split with statistics of ``splits.train``.

    ``standard``: zero mean, unit variance; ``minmax``: the training range maps to
    0..1. A constant feature is shifted but not scaled (no division by zero).
    Targets are never touched.
    """
    if mode == "none":
        return splits
    train_x = splits.train.x.astype(np.float64, copy=False)
    axes = _reduce_axes(train_x.ndim - 1)
    if mode == "standard":
        shift = train_x.mean(axis=axes, keepdims=True)
        scale = train_x.std(axis=axes, keepdims=True)
    else:
        shift = train_x.min(axis=axes, keepdims=True)
        scale = train_x.max(axis=axes, keepdims=True) - shift
    scale = np.where(scale > 0, scale, 1.0)

    def apply(part: ArraySet) -> ArraySet:
        x = ((part.x - shift) / scale).astype(np.float32)
        return ArraySet(x, part.y)

    return ArraySplits(apply(splits.train), apply(splits.val), apply(splits.test))
