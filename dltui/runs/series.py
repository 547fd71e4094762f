"""Series: one scalar tag's points as growing numpy arrays; records grouped by tag."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

_FIELDS = (("step", np.int64), ("epoch", np.float32), ("time", np.float64), ("value", np.float64))


class Series:
    """The points of one tag, in the order they were written.

    ``step`` (int64), ``epoch`` (float32, NaN where none was given), ``time``
    (float64 unix seconds) and ``value`` (float64) are read-only views of the
    first ``len(series)`` entries of buffers that grow by doubling, so adding
    points costs amortised O(new points) and never re-concatenates the old
    ones. A view taken before a poll stays valid; it just lacks later points.
    """

    __slots__ = ("_arrays", "_n", "tag")

    def __init__(self, tag: str, capacity: int = 256) -> None:
        """An empty series for ``tag`` with room for ``capacity`` points."""
        self.tag = tag
        self._n = 0
        self._arrays = {name: np.empty(capacity, dtype) for name, dtype in _FIELDS}

    def __len__(self) -> int:
        """The number of points."""
        return self._n

    def __repr__(self) -> str:
        """``Series('train/loss', 1234 points)``."""
        return f"Series({self.tag!r}, {self._n} points)"

    def _view(self, name: str) -> np.ndarray:
        view = self._arrays[name][: self._n]
        view.flags.writeable = False
        return view

    @property
    def step(self) -> np.ndarray:
        """Steps (int64)."""
        return self._view("step")

    @property
    def epoch(self) -> np.ndarray:
        """Fractional epochs (float32; NaN where the writer gave none)."""
        return self._view("epoch")

    @property
    def time(self) -> np.ndarray:
        """Wall-clock times (float64 unix seconds)."""
        return self._view("time")

    @property
    def value(self) -> np.ndarray:
        """Values (float64; NaN and inf kept as written)."""
        return self._view("value")

    @property
    def last(self) -> float | None:
        """The latest value, or None for an empty series."""
        return float(self._arrays["value"][self._n - 1]) if self._n else None

    def extend(
        self, step: np.ndarray, epoch: np.ndarray, time: np.ndarray, value: np.ndarray
    ) -> None:
        """Append points given as four equally long arrays."""
        count = len(step)
        if not count:
            return
        needed = self._n + count
        arrays = self._arrays
        capacity = len(arrays["step"])
        if needed > capacity:
            capacity = max(needed, 2 * capacity)
            for name, dtype in _FIELDS:
                grown = np.empty(capacity, dtype)
                grown[: self._n] = arrays[name][: self._n]
                arrays[name] = grown
        start = self._n
        arrays["step"][start:needed] = step
        arrays["epoch"][start:needed] = epoch
        arrays["time"][start:needed] = time
        arrays["value"][start:needed] = value
        self._n = needed

    def drop_after(self, step: int) -> int:
        """Drop every point whose step is greater than ``step``; returns how many went.

        What a resume supersedes (docs/run-format.md). The kept points move to new
        buffers, so views taken before stay as they were.
        """
        if not self._n:
            return 0
        keep = np.less_equal(self._arrays["step"][: self._n], step)
        kept = int(np.count_nonzero(keep))
        dropped = self._n - kept
        if dropped:
            capacity = max(256, len(self._arrays["step"]))
            arrays = {}
            for name, dtype in _FIELDS:
                fresh = np.empty(capacity, dtype)
                fresh[:kept] = self._arrays[name][: self._n][keep]
                arrays[name] = fresh
            self._arrays = arrays
            self._n = kept
        return dropped


def distinct_tags(tags: np.ndarray) -> np.ndarray:
    """The sorted distinct tag ids of some records (bincount beats np.unique for small ids)."""
    if not len(tags):
        return tags
    top = int(tags.max())
    if top < 1 << 16:
        return np.flatnonzero(np.bincount(tags, minlength=top + 1))
    return np.unique(tags)


def by_tag(
    tags: np.ndarray, unique: np.ndarray, columns: list[np.ndarray]
) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Each tag id of ``unique`` (`distinct_tags` of ``tags``) with its records' ``columns``,
    in the order they were written."""
    if len(unique) == 1:
        yield int(unique[0]), columns
        return
    if not len(unique):
        return
    # Gather each column once in tag order; every tag is then a contiguous slice.
    order = np.argsort(_sort_keys(tags, int(unique[-1])), kind="stable")
    sorted_tags = tags[order]
    columns = [column[order] for column in columns]
    bounds = [0, *(np.flatnonzero(sorted_tags[1:] != sorted_tags[:-1]) + 1).tolist()]
    bounds.append(len(order))
    for start, end in itertools.pairwise(bounds):
        yield int(sorted_tags[start]), [column[start:end] for column in columns]


def _sort_keys(tags: np.ndarray, top: int) -> np.ndarray:
    """Tag ids in the narrowest dtype: numpy radix-sorts 8/16-bit keys stably in O(n)."""
    if top < 1 << 8:
        return tags.astype(np.uint8)
    if top < 1 << 16:
        return tags.astype(np.uint16)
    return tags
