"""Series: one scalar tag's points as growing numpy arrays."""

from __future__ import annotations

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
