"""scikit-learn's 8x8 handwritten digits: 1797 real images that need no download.

scikit-learn is an optional extra (``pip install 'dltui[digits]'``); it is
imported only when the images are loaded, because importing it takes seconds.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, split_rng
from dltui.data.errors import DataError
from dltui.data.info import DataInfo
from dltui.data.splitting import split_samples
from dltui.spec.data import DigitsData

_MISSING = (
    "the digits set comes with scikit-learn, which is not installed: pip install 'dltui[digits]'"
)


def _sklearn_dir() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("data.source", _MISSING)
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _labels() -> np.ndarray:
    """The label of every image, read without importing scikit-learn when possible."""
    # load_digits() reads this file; reading just its label column is ~1000x
    # faster than importing scikit-learn, which matters for describe().
    table = _sklearn_dir() / "datasets" / "data" / "digits.csv.gz"
    if table.is_file():
        try:
            return np.loadtxt(table, delimiter=",", usecols=64, dtype=np.int64)
        except (OSError, ValueError):
            pass  # a changed layout: fall back to the public API
    return _images()[1]


@cache
def _images() -> tuple[np.ndarray, np.ndarray]:
    """All images ``(1797, 64)`` as float 0..16 and their labels."""
    _sklearn_dir()
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DataError("data.source", f"{_MISSING} ({err})") from err
    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float32), np.asarray(bunch.target, dtype=np.int64)


def _kept(spec: DigitsData) -> list[int]:
    """The digits kept, in the order given: digit ``kept[i]`` becomes class ``i``."""
    if spec.classes is None:
        return list(range(10))
    kept = list(dict.fromkeys(spec.classes))
    if len(kept) < 2:
        raise DataError(
            "data.classes", f"keeps only digit {kept[0]}; a classifier needs at least two digits"
        )
    return kept


def describe(spec: DigitsData) -> DataInfo:
    """``(1, 8, 8)`` images (``(64,)`` with ``flatten``), pixels 0..1, digit classes."""
    kept = _kept(spec)
    samples = int(np.isin(_labels(), kept).sum())
    return DataInfo(
        input_shape=(64,) if spec.flatten else (1, 8, 8),
        target_shape=(),
        task="classification",
        num_classes=len(kept),
        class_names=[str(d) for d in kept],
        samples=samples,
    )


def load(spec: DigitsData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """The images of the kept digits, labels remapped to 0..k-1, split stratified."""
    pixels, labels = _images()
    kept = _kept(spec)
    mask = np.isin(labels, kept)
    x = pixels[mask] / 16.0
    if not spec.flatten:
        x = x.reshape(-1, 1, 8, 8)
    class_of_digit = np.full(10, -1, dtype=np.int64)
    class_of_digit[kept] = np.arange(len(kept))
    y = class_of_digit[labels[mask]]
    splits = split_samples(
        ArraySet(x.astype(np.float32), y), spec.split, split_rng(seed), stratify=True
    )
    return splits, describe(spec)
