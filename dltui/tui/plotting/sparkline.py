"""Sparklines: a series as one row of block characters, its peaks kept."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BLOCKS = "▁▂▃▄▅▆▇█"


def bucket_max(values: npt.ArrayLike, width: int) -> npt.NDArray[np.float64]:
    """The largest finite value in each of ``width`` equal index buckets (NaN where none).

    Shorter series keep one bucket per value.
    """
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.size == 0 or width < 1:
        return np.empty(0)
    if y.size <= width:
        return np.where(np.isfinite(y), y, np.nan)
    starts = np.linspace(0, y.size, width, endpoint=False).astype(np.intp)
    with np.errstate(invalid="ignore"):
        return np.fmax.reduceat(np.where(np.isfinite(y), y, np.nan), starts)


def sparkline(
    values: npt.ArrayLike,
    width: int,
    lo: float | None = None,
    hi: float | None = None,
) -> str:
    """``values`` as at most ``width`` block characters scaled to ``[lo, hi]``.

    Each character shows its bucket's maximum, so a spike is never averaged away.
    The range defaults to the data's; a missing bucket is a space.
    """
    peaks = bucket_max(values, width)
    finite = peaks[np.isfinite(peaks)]
    if finite.size == 0:
        return " " * peaks.size
    low = float(finite.min()) if lo is None else lo
    high = float(finite.max()) if hi is None else hi
    span = high - low
    levels = np.zeros(peaks.size, dtype=np.intp)
    if span > 0:
        scaled = np.clip((np.nan_to_num(peaks, nan=low) - low) / span, 0.0, 1.0)
        levels = np.rint(scaled * (len(BLOCKS) - 1)).astype(np.intp)
    chars = np.array(list(BLOCKS))[levels]
    chars[~np.isfinite(peaks)] = " "
    return "".join(chars.tolist())
