"""A ring of 2-D Gaussians: the classic target distribution for a GAN.

``y`` holds the index of the mode each point was drawn from. A generative model
does not train on it; it is there to measure mode coverage (how many modes the
generator's samples reach) and to colour plots.
"""

from __future__ import annotations

import math

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, source_rng, split_rng
from dltui.data.info import DataInfo
from dltui.data.splitting import split_samples
from dltui.spec.data import GaussianMixtureData


def describe(spec: GaussianMixtureData) -> DataInfo:
    """Inputs ``(2,)`` float points; targets are mode indices of shape ``()``."""
    return DataInfo((2,), (), "generative", samples=spec.samples)


def mode_centres(spec: GaussianMixtureData) -> np.ndarray:
    """The ``(modes, 2)`` centres, evenly spaced on the circle of ``radius``."""
    angle = 2 * math.pi * np.arange(spec.modes) / spec.modes
    return spec.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def generate(spec: GaussianMixtureData, seed: int) -> ArraySet:
    """``spec.samples`` points from modes chosen uniformly at random."""
    rng = source_rng(seed)
    modes = rng.integers(0, spec.modes, spec.samples)
    points = mode_centres(spec)[modes] + rng.normal(0.0, spec.std, (spec.samples, 2))
    return ArraySet(points.astype(np.float32), modes.astype(np.int64))


def load(spec: GaussianMixtureData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """The generated points, split at random into train/val/test."""
    splits = split_samples(generate(spec, seed), spec.split, split_rng(seed), stratify=False)
    return splits, describe(spec)
