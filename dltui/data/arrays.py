"""Samples as numpy arrays while a source is read, split and normalised.

Sources work in numpy (cheap to import, fast to index); tensors are made once,
at the end of :func:`dltui.data.load_data`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArraySet:
    """Inputs and targets of one set of samples, same first dimension."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, index: np.ndarray) -> ArraySet:
        """The samples at ``index``, in that order."""
        return ArraySet(self.x[index], self.y[index])

    def empty(self) -> ArraySet:
        """A set with no samples but the same per-sample shapes and dtypes."""
        return ArraySet(self.x[:0], self.y[:0])


@dataclass(frozen=True)
class ArraySplits:
    """The three splits of a source, before they become tensors."""

    train: ArraySet
    val: ArraySet
    test: ArraySet


def source_rng(seed: int) -> np.random.Generator:
    """The generator that draws a generated set's samples (or a text's windows)."""
    return np.random.default_rng([seed, 0])


def split_rng(seed: int) -> np.random.Generator:
    """The generator that splits samples: independent of :func:`source_rng`, so
    changing the split fractions never changes the generated samples."""
    return np.random.default_rng([seed, 1])
