"""Dividing samples into train/val/test: random, reproducible, stratified by class."""

from __future__ import annotations

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits
from dltui.data.errors import DataError
from dltui.spec.data import FileData, Split

_SET_NAMES = {"train": "training", "val": "validation", "test": "test"}


def split_counts(
    total: int,
    split: Split,
    *,
    val_file: bool = False,
    test_file: bool = False,
    unit: str = "samples",
    file: object = None,
) -> tuple[int, int, int]:
    """How many of ``total`` units go to train, val and test.

    A set given by its own file takes nothing from ``total``; the remaining
    fractions are rescaled to cover all of it. A set whose fraction is above zero
    but rounds to no unit is an error, so a run never validates on nothing.
    """
    fractions = {
        "train": split.train,
        "val": 0.0 if val_file else split.val,
        "test": 0.0 if test_file else split.test,
    }
    scale = sum(fractions.values())
    n_val = round(total * fractions["val"] / scale)
    n_test = round(total * fractions["test"] / scale)
    n_train = total - n_val - n_test
    counts = {"train": n_train, "val": n_val, "test": n_test}
    for name, fraction in fractions.items():
        if fraction > 0 and counts[name] <= 0:
            raise DataError(
                f"data.split.{name}",
                f"a fraction of {getattr(split, name):g} of {total} {unit} leaves the "
                f"{_SET_NAMES[name]} set empty; use more {unit} or a larger fraction",
                file=str(file) if file is not None else None,
            )
    return n_train, n_val, n_test


def stratified_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random permutation in which every prefix holds each class in proportion.

    Each sample gets the position of a random rank within its class, scaled to
    0..1; sorting by it interleaves the classes evenly, so cutting the order into
    consecutive pieces gives class-balanced splits of exactly the asked sizes.
    """
    n = labels.shape[0]
    keys = np.empty(n, dtype=np.float64)
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        ranks = rng.permutation(members.shape[0])
        keys[members] = (ranks + rng.uniform(0.0, 1.0, members.shape[0])) / members.shape[0]
    return np.argsort(keys, kind="stable")


def split_samples(
    samples: ArraySet,
    split: Split,
    rng: np.random.Generator,
    *,
    stratify: bool,
    val: ArraySet | None = None,
    test: ArraySet | None = None,
    file: object = None,
) -> ArraySplits:
    """Split ``samples`` by ``split``; ``val``/``test`` given from their own files win.

    With ``stratify`` (class-index targets) each split keeps the class
    proportions of the whole. Every split is in random order.
    """
    n_train, n_val, _ = split_counts(
        len(samples), split, val_file=val is not None, test_file=test is not None, file=file
    )
    order = stratified_order(samples.y, rng) if stratify else rng.permutation(len(samples))
    # The stratified order is a sequence of balanced pieces; shuffle inside each
    # piece so no split is sorted by class quantile.
    parts = np.split(order, [n_train, n_train + n_val])
    parts = [rng.permutation(part) for part in parts]
    return ArraySplits(
        train=samples.take(parts[0]),
        val=val if val is not None else samples.take(parts[1]),
        test=test if test is not None else samples.take(parts[2]),
    )


def split_file_sets(
    sets: dict[str, ArraySet], spec: FileData, seed: int, *, task: str
) -> ArraySplits:
    """Split a file source's samples: ``main`` by the fractions, ``val``/``test`` files as given."""
    from dltui.data.arrays import split_rng

    return split_samples(
        sets["main"],
        spec.split,
        split_rng(seed),
        stratify=task == "classification",
        val=sets.get("val"),
        test=sets.get("test"),
        file=spec.path,
    )
