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

from dltui.series.growing import GrowingArray

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
    stream = StreamingEma(weight)
    stream.extend(y)
    return stream.values


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
        # One summing pass tells "all finite" (the usual case) without a mask; a sum that
        # overflows only sends finite values down the exact path below.
        all_finite = math.isfinite(float(np.add.reduce(y)))
        finite = None if all_finite else np.isfinite(y)
        x = y if finite is None else y[finite]
        if not x.size:
            out[:] = y
            return
        acc = out if finite is None else np.empty(x.size)
        _ema_accumulator(x, weight, acc)
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
        if finite is not None:
            out[:] = y
            out[finite] = acc


def _ema_accumulator(x: FloatArray, w: float, out: FloatArray) -> None:
    """Write ``acc_k = w*acc_{k-1} + (1-w)*x_k`` (``acc_0 = 0``) into ``out``, by blocks."""
    n = x.size
    block = max(1, min(n, int(math.log(_BLOCK_SCALE) / -math.log(w))))
    full = n // block
    tail = n - full * block
    j = np.arange(block, dtype=np.float64)
    # From a zero start, acc_j = (1-w) * w**j * S_j with S_j = sum_{i<=j} x_i * w**-i
    # within a block; a block that starts from carry c adds c * w**(j+1). The full blocks
    # are worked on in ``out`` itself (a 2-D view), four passes and no temporary: on a
    # million points, fresh memory costs more in page faults than the arithmetic.
    grid = out[: full * block].reshape(full, block)
    np.multiply(x[: full * block].reshape(full, block), w ** (-j), out=grid)
    np.cumsum(grid, axis=1, out=grid)
    rest = np.cumsum(x[full * block :] * w ** (-j[:tail]))  # the last, partial block
    scale = (1.0 - w) * w**j
    decay = w**block
    ends = grid[:, -1] * scale[-1]
    # carry[b] = decay * carry[b-1] + ends[b-1], for the full blocks and the partial one.
    # Each substitution pass fixes one more order of decay (about 1e-6 here), so a
    # handful reach float64 precision.
    blocks = full + (1 if tail else 0)
    passes = 1 if decay <= 0.0 else 2 + math.ceil(-17 / math.log10(decay))
    carry = np.zeros(blocks)
    for _ in range(min(passes, blocks)):
        nxt = np.zeros(blocks)
        nxt[1:] = ends[: blocks - 1] + decay * carry[:-1]
        if np.array_equal(nxt, carry):
            break
        carry = nxt
    # acc = (1-w) * w**j * (S_j + c * w / (1-w)): the carry joins before the one scaling.
    shift = carry * (w / (1.0 - w))
    grid += shift[:full, None]
    grid *= scale
    if tail:
        out[full * block :] = (rest + shift[-1]) * scale[:tail]
