"""Min/max decimation: reduce a long series to what a plot of a given width can show.

A plot ``columns`` pixels wide cannot show more than one vertical stroke per pixel
column, so each column bucket of x is reduced to its lowest and highest value,
emitted in the order they occur. Spikes therefore always survive, unlike with
striding or reservoir sampling (TensorBoard's 1,000-point reservoir hides them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def minmax_decimate(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    columns: int,
    x_range: tuple[float, float] | None = None,
    *,
    assume_sorted: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Reduce ``(x, y)`` to at most ``2 * columns`` points keeping each bucket's extremes.

    Buckets are equal slices of ``x_range`` (default: the finite range of ``x``), so
    several series decimated with the same range line up pixel for pixel. Within a
    bucket, the minimum and maximum are returned at their own x, in x order.
    Non-finite ``y`` (NaN, ±inf) count as missing: a bucket with no finite value
    yields a single NaN point, which a renderer draws as a gap. Points whose x is
    not finite or lies outside ``x_range`` are dropped. ``x`` need not be sorted
    (it is sorted stably first), but sorted input is the fast path; ``assume_sorted``
    skips even the check, for callers that check once per data change, not per redraw.

    Runs in O(n) vectorised numpy apart from that optional sort.
    """
    ((dx, dy),) = minmax_decimate_many(x, [y], columns, x_range, assume_sorted=assume_sorted)
    return dx, dy


def minmax_decimate_many(
    x: npt.ArrayLike,
    ys: Sequence[npt.ArrayLike],
    columns: int,
    x_range: tuple[float, float] | None = None,
    *,
    assume_sorted: bool = False,
) -> list[tuple[FloatArray, FloatArray]]:
    """`minmax_decimate` of several series over the same ``x`` (a raw series and its
    smoothing), sorting and bucketing ``x`` once for all of them."""
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    xs = np.asarray(x, dtype=np.float64).ravel()
    values = [np.asarray(y, dtype=np.float64).ravel() for y in ys]
    for v in values:
        if xs.shape != v.shape:
            raise ValueError(f"x and y differ in length: {xs.size} vs {v.size}")
    if not assume_sorted and xs.size and not bool(np.all(xs[1:] >= xs[:-1])):
        # NaN x compare False too, so they also land here and are sorted to the end.
        order = np.argsort(xs, kind="stable")
        xs = xs[order]
        values = [v[order] for v in values]

    lo, hi = _finite_range(xs) if x_range is None else (float(x_range[0]), float(x_range[1]))
    first = int(np.searchsorted(xs, lo, side="left"))
    last = int(np.searchsorted(xs, hi, side="right"))
    xs = xs[first:last]
    values = [v[first:last] for v in values]
    n = xs.size
    if n == 0:
        return [(np.empty(0), np.empty(0)) for _ in values]
    if n <= 2 * columns:
        return [(xs.copy(), np.where(np.isfinite(v), v, np.nan)) for v in values]

    edges = np.linspace(lo, hi, columns + 1)
    starts = np.searchsorted(xs, edges[:-1], side="left")
    starts[0] = 0
    counts = np.diff(np.append(starts, n))
    starts = starts[counts > 0]
    counts = counts[counts > 0]
    return [_extremes(xs, v, starts, counts) for v in values]


def _extremes(
    xs: FloatArray, ys: FloatArray, starts: npt.NDArray[np.intp], counts: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """Each bucket's minimum and maximum, at their own x, in x order."""
    with np.errstate(invalid="ignore"):
        mins = np.fmin.reduceat(ys, starts)
        maxs = np.fmax.reduceat(ys, starts)
    if bool(np.isinf(mins).any() or np.isinf(maxs).any()):
        # Rare: an infinity is some bucket's extreme (every one is: a +inf is its
        # bucket's max, a -inf its min). Count them as missing, as NaN, and look again.
        ys = np.where(np.isfinite(ys), ys, np.nan)
        with np.errstate(invalid="ignore"):
            mins = np.fmin.reduceat(ys, starts)
            maxs = np.fmax.reduceat(ys, starts)
    argmin = _first_index_of(ys, mins, starts, counts, minimum=True)
    argmax = _first_index_of(ys, maxs, starts, counts, minimum=False)

    empty = np.isnan(mins)  # the bucket had no finite value at all
    first_idx = np.minimum(argmin, argmax)
    second_idx = np.maximum(argmin, argmax)
    # One point when min and max coincide (flat bucket) or the bucket is a gap.
    single = (first_idx == second_idx) | empty
    idx = np.stack([first_idx, second_idx], axis=1)
    keep = np.stack([np.ones_like(single), ~single], axis=1)
    out_idx = idx[keep]
    out_x = xs[out_idx]
    out_y = ys[out_idx]
    gap_rows = np.repeat(empty, keep.sum(axis=1))
    out_y[gap_rows] = np.nan
    return out_x, out_y


def _finite_range(xs: FloatArray) -> tuple[float, float]:
    if xs.size and np.isfinite(xs[0]) and np.isfinite(xs[-1]):
        return float(xs[0]), float(xs[-1])  # sorted: the ends are the range
    finite = xs[np.isfinite(xs)]
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite[0]), float(finite[-1])


def _first_index_of(
    values: FloatArray,
    targets: FloatArray,
    starts: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
    *,
    minimum: bool,
) -> npt.NDArray[np.intp]:
    """Index of the first element of each bucket equal to its target (its min or max).

    Buckets whose target is NaN (no finite value) get their first index. Small
    buckets (a live run of a few thousand points) are done in one vectorised
    pass; large ones (a million points in a few hundred buckets) bucket by
    bucket, because there the vectorised form's full-length temporaries cost
    more in page faults than a loop of a few hundred slices, each in cache.
    """
    if values.size <= _VECTORISED_BUCKET * max(1, starts.size):
        return _first_index_vectorised(values, targets, starts, counts)
    found = starts.copy()
    for b, (start, count, target) in enumerate(
        zip(starts.tolist(), counts.tolist(), targets.tolist(), strict=True)
    ):
        if target != target:  # NaN: an empty bucket
            continue
        segment = values[start : start + count]
        i = int(segment.argmin() if minimum else segment.argmax())
        if segment[i] != target:
            # NaN in the segment fools argmin/argmax; search for the value itself.
            i = int(np.flatnonzero(segment == target)[0])
        found[b] = start + i
    return found


_VECTORISED_BUCKET = 256
"""Average bucket size up to which `_first_index_of` takes the vectorised path (measured:
at 100 points per bucket it is ten times faster, at 1,000 per bucket twice as slow)."""


def _first_index_vectorised(
    values: FloatArray,
    targets: FloatArray,
    starts: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
) -> npt.NDArray[np.intp]:
    n = values.size
    with np.errstate(invalid="ignore"):
        hit = values == np.repeat(targets, counts)  # NaN targets match nothing
    first = np.minimum.reduceat(np.where(hit, np.arange(n), n), starts)
    return np.where(first < n, first, starts)
