"""Noisy sums of sines: forecast the next ``horizon`` values from ``seq_len`` steps.

Every sample is its own series: two sines with random frequency (2 to 15
periods per 100 steps), phase and amplitude, plus Gaussian noise of std
``noise`` on every value, targets included (they are observations too).
"""

from __future__ import annotations

import math

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, source_rng, split_rng
from dltui.data.info import DataInfo
from dltui.data.splitting import split_samples
from dltui.spec.data import SineData

COMPONENTS = 2


def describe(spec: SineData) -> DataInfo:
    """Inputs ``(seq_len, 1)``, regression targets ``(horizon,)``."""
    return DataInfo((spec.seq_len, 1), (spec.horizon,), "regression", samples=spec.samples)


def generate(spec: SineData, seed: int) -> ArraySet:
    """``spec.samples`` series, reproducible from ``seed``."""
    rng = source_rng(seed)
    n, length = spec.samples, spec.seq_len + spec.horizon
    shape = (n, COMPONENTS, 1)
    frequency = rng.uniform(0.02, 0.15, shape)
    phase = rng.uniform(0.0, 2 * math.pi, shape)
    amplitude = rng.uniform(0.3, 1.0, shape) / COMPONENTS
    steps = np.arange(length).reshape(1, 1, length)
    series = (amplitude * np.sin(2 * math.pi * frequency * steps + phase)).sum(axis=1)
    series = series + rng.normal(0.0, spec.noise, series.shape)
    x = series[:, : spec.seq_len, None]
    y = series[:, spec.seq_len :]
    return ArraySet(x.astype(np.float32), y.astype(np.float32))


def load(spec: SineData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """The generated series, split at random into train/val/test."""
    splits = split_samples(generate(spec, seed), spec.split, split_rng(seed), stratify=False)
    return splits, describe(spec)
