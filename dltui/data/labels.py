"""Targets as class indices or regression values, shared by the file sources."""

from __future__ import annotations

from typing import Literal

import numpy as np

MAX_AUTO_CLASSES = 20
"""``task = "auto"`` reads integer targets with at most this many values as classes."""


def looks_like_classes(values: np.ndarray) -> bool:
    """Whether numeric targets are class labels: integers with few distinct values."""
    if values.ndim != 1 or values.size == 0:
        return False
    if values.dtype.kind == "b":
        return True
    if values.dtype.kind not in "iuf":
        return True  # strings and other labels are names of classes
    if values.dtype.kind == "f" and not (
        np.all(np.isfinite(values)) and np.all(values == np.round(values))
    ):
        return False
    return np.unique(values).size <= MAX_AUTO_CLASSES


def resolve_task(
    requested: Literal["auto", "classification", "regression"], values: np.ndarray
) -> Literal["classification", "regression"]:
    """The task asked for, or the one ``values`` look like under ``auto``."""
    if requested != "auto":
        return requested
    return "classification" if looks_like_classes(values) else "regression"


def class_name(value: object) -> str:
    """A label as a user wrote it: ``3`` not ``3.0``, strings as they are."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


class ClassIndex:
    """The sorted distinct labels of every file, and the mapping to indices 0..k-1."""

    def __init__(self, *label_arrays: np.ndarray):
        self.values = np.unique(np.concatenate([a.reshape(-1) for a in label_arrays]))
        self.names = [class_name(v) for v in self.values]

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def indices(self, labels: np.ndarray) -> np.ndarray:
        """``labels`` as int64 class indices (every label is known by construction)."""
        return np.searchsorted(self.values, labels).astype(np.int64)
