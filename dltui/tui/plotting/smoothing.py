"""TensorBoard-style smoothing: a debiased exponential moving average.

For weight ``w`` and finite values ``x_1 … x_k`` seen so far::

    acc_k = w * acc_{k-1} + (1 - w) * x_k,   acc_0 = 0
    smoothed_k = acc_k / (1 - w**k)

The division removes the pull towards 0 that a zero-initialised average has at
the start. Non-finite values (NaN, ±inf) are passed through unchanged and do not
advance the average, as in TensorBoard, so a gap stays a gap.

The recurrence is evaluated over the *whole* series (not only the decimated
points) with a blocked closed form, all in numpy: within a block of ``B`` values
``acc`` is a scaled cumulative sum; the carry between blocks decays by ``w**B``,
which the block size keeps below 1e-6, so a few vectorised passes settle it to
float64 precision. 1,000,000 points take a few milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from dltui.tui.plotting.growing import GrowingArray

FloatArray = npt.NDArray[np.float64]

# The largest factor by which a block rescales its values; it bounds the relative
# rounding error at about 1e-16 * 1e6 and makes the carry between blocks <= 1e-6.
_BLOCK_SCALE = 1e6
MAX_WEIGHT = 0.999


def ema_debiased(values: npt.ArrayLike, weight: float) -> FloatArray:
    """The debiased EMA of ``values`` with smoothing ``weight`` in ``[0, 0.999]``.

    ``weight`` 0 returns the values unchanged; 0.99 is heavy smoothing. Non-finite
    entries are copied to the output where they are and skipped by the average.
    """
    if not (0.0 <= weight <= MAX_WEIGHT):
        raise ValueError(f"smoothing weight must be in [0, {MAX_WEIGHT}], got {weight}")
    y = np.asarray(values, dtype=np.float64).ravel()
    if weight == 0.0 or y.size == 0:
        return y.copy()
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    x = y if all_finite else y[finite]
    smoothed = _ema_accumulator(x, weight)
    # The bias factor 1 - w**k is 1.0 in float64 once w**k < 1e-17: only the head needs it.
    head = min(x.size, math.ceil(-17 / math.log10(weight)) + 1)
    smoothed[:head] /= -np.expm1(np.arange(1, head + 1) * math.log(weight))
    if all_finite:
        return smoothed
    out = y.copy()
    out[finite] = smoothed
    return out


class StreamingEma:
    """The debiased EMA of a series that only grows, extended in the cost of what is new.

    A live run appends a few points per poll to series that may hold millions;
    smoothing the whole series again each time would cost milliseconds per plot
    per poll. ``extend`` continues the recurrence from the last accumulator
    instead, and gives the same values as :func:`ema_debiased` of the whole series
    (up to float rounding).
    """

    def __init__(self, weight: float) -> None:
        """An empty average with smoothing ``weight`` in ``[0, 0.999]``."""
        if not (0.0 <= weight <= MAX_WEIGHT):
            raise ValueError(f"smoothing weight must be in [0, {MAX_WEIGHT}], got {weight}")
        self.weight = weight
        self._smoothed = GrowingArray()
        self._acc = 0.0
        self._finite = 0
        """How many finite values the average has taken in."""

    def __len__(self) -> int:
        """How many values were given (and smoothed) so far."""
        return len(self._smoothed)

    @property
    def values(self) -> FloatArray:
        """The smoothed series so far (a view: valid until the next `extend`)."""
        return self._smoothed.values

    def extend(self, values: npt.ArrayLike) -> None:
        """Smooth ``values``, the points that follow those already given."""
        y = np.asarray(values, dtype=np.float64).ravel()
        if y.size == 0:
            return
        out = self._smoothed.reserve(y.size)
        weight = self.weight
        if weight == 0.0:
            out[:] = y
            return
        finite = np.isfinite(y)
        all_finite = bool(finite.all())
        x = y if all_finite else y[finite]
        if x.size:
            acc = _ema_accumulator(x, weight)
            if self._acc:
                # The earlier values' accumulator carries on, decaying by w per new value.
                acc += self._acc * weight ** np.arange(1, x.size + 1)
            self._acc = float(acc[-1])
            seen = self._finite
            self._finite += x.size
            # The bias factor 1 - w**k is 1.0 in float64 once w**k < 1e-17.
            head = min(x.size, max(0, math.ceil(-17 / math.log10(weight)) + 1 - seen))
            if head:
                acc[:head] /= -np.expm1(np.arange(seen + 1, seen + head + 1) * math.log(weight))
        else:
            acc = x
        if all_finite:
            out[:] = acc
        else:
            out[:] = y
            out[finite] = acc


def _ema_accumulator(x: FloatArray, w: float) -> FloatArray:
    """``acc_k = w*acc_{k-1} + (1-w)*x_k`` with ``acc_0 = 0``, vectorised by blocks."""
    n = x.size
    block = max(1, min(n, int(math.log(_BLOCK_SCALE) / -math.log(w))))
    n_blocks = -(-n // block)
    flat = np.zeros(n_blocks * block)
    flat[:n] = x
    grid = flat.reshape(n_blocks, block)
    j = np.arange(block, dtype=np.float64)
    # From a zero start, acc_j = (1-w) * w**j * sum_{i<=j} x_i * w**-i within a block;
    # a block that starts from carry c adds c * w**(j+1). All updates are in place
    # because full-size temporaries cost more than the arithmetic.
    grid *= w ** (-j)
    np.cumsum(grid, axis=1, out=grid)
    grid *= 1.0 - w
    decay = w**block
    ends = grid[:, -1] * w ** (block - 1)
    # carry[b] = decay * carry[b-1] + ends[b-1]. Each substitution pass fixes one more
    # order of decay (about 1e-6 here), so a handful reach float64 precision.
    passes = 1 if decay <= 0.0 else 2 + math.ceil(-17 / math.log10(decay))
    carry = np.zeros(n_blocks)
    for _ in range(min(passes, n_blocks)):
        nxt = np.zeros(n_blocks)
        nxt[1:] = ends[:-1] + decay * carry[:-1]
        if np.array_equal(nxt, carry):
            break
        carry = nxt
    grid += (carry * w)[:, None]
    grid *= w**j
    return grid.ravel()[:n]
