"""The TensorFlow Playground sets: 2-D points, drawn afresh from the seed.

Points lie roughly in the square -1..1; ``noise`` is the std of Gaussian noise
added to every point, in the same units. Classes get equal shares of
``samples`` (the first classes take the remainder).
"""

from __future__ import annotations

import math

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, source_rng, split_rng
from dltui.data.info import DataInfo
from dltui.data.splitting import split_samples
from dltui.spec.data import PlaygroundData

PLANE_WEIGHTS = (0.6, -0.8)
PLANE_BIAS = 0.1
"""``plane`` targets are ``0.6·x1 − 0.8·x2 + 0.1`` plus noise."""


def _num_classes(spec: PlaygroundData) -> int:
    if spec.source in ("spirals", "gaussian"):
        return spec.classes
    return 2


def describe(spec: PlaygroundData) -> DataInfo:
    """Two input features; class indices, or one regression target for ``plane``."""
    if spec.source == "plane":
        return DataInfo((2,), (1,), "regression", samples=spec.samples)
    k = _num_classes(spec)
    names = {
        "circles": ["inner", "outer"],
        "xor": ["different sign", "same sign"],
        "moons": ["upper", "lower"],
    }.get(spec.source, [f"{'arm' if spec.source == 'spirals' else 'blob'} {c}" for c in range(k)])
    return DataInfo((2,), (), "classification", k, names, samples=spec.samples)


def _per_class(samples: int, k: int) -> np.ndarray:
    """Class labels for ``samples`` points split as evenly as possible among ``k``."""
    counts = [samples // k + (1 if c < samples % k else 0) for c in range(k)]
    return np.repeat(np.arange(k), counts)


def _spirals(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    # sqrt makes points evenly dense along the arm instead of crowding the centre.
    t = np.sqrt(rng.uniform(0.0025, 1.0, labels.shape[0]))
    angle = 3.5 * math.pi * t + 2 * math.pi * labels / k
    return np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)


def _circles(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    radius = np.where(
        labels == 0, rng.uniform(0.0, 0.5, labels.shape), rng.uniform(0.7, 1.0, labels.shape)
    )
    angle = rng.uniform(0, 2 * math.pi, labels.shape)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def _xor(samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Keep points a little off the axes, as the Playground does, so that with no
    # noise the quadrants are cleanly separable.
    magnitude = rng.uniform(0.05, 1.0, (samples, 2))
    sign = rng.choice([-1.0, 1.0], (samples, 2))
    points = magnitude * sign
    labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
    return points, labels


def _gaussian(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    angle = 2 * math.pi * labels / k + math.pi / 4
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0.0, 0.15, (labels.shape[0], 2))


def _moons(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    t = rng.uniform(0.0, math.pi, labels.shape)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    points = np.where((labels == 0)[:, None], upper, lower)
    # Centre the pair on the origin and fit it in -1..1.
    return (points - np.array([0.5, 0.25])) / 1.5


def generate(spec: PlaygroundData, seed: int) -> ArraySet:
    """All ``spec.samples`` points and their targets, reproducible from ``seed``."""
    rng = source_rng(seed)
    n = spec.samples
    if spec.source == "plane":
        x = rng.uniform(-1.0, 1.0, (n, 2))
        y = x @ np.array(PLANE_WEIGHTS) + PLANE_BIAS + rng.normal(0.0, spec.noise, n)
        return ArraySet(x.astype(np.float32), y.reshape(n, 1).astype(np.float32))
    k = _num_classes(spec)
    if spec.source == "xor":
        x, labels = _xor(n, rng)
    else:
        labels = _per_class(n, k)
        if spec.source == "spirals":
            x = _spirals(labels, k, rng)
        elif spec.source == "circles":
            x = _circles(labels, rng)
        elif spec.source == "gaussian":
            x = _gaussian(labels, k, rng)
        else:
            x = _moons(labels, rng)
    x = x + rng.normal(0.0, spec.noise, x.shape)
    return ArraySet(x.astype(np.float32), labels.astype(np.int64))


def load(spec: PlaygroundData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """The generated points, split (stratified by class) into train/val/test."""
    info = describe(spec)
    samples = generate(spec, seed)
    splits = split_samples(
        samples, spec.split, split_rng(seed), stratify=info.task == "classification"
    )
    return splits, info
