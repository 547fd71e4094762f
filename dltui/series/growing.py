"""Arrays that only grow, and how far a cache has followed one.

A live run's series only ever get points appended. Caches built from them
(x as float64, the smoothed values) are extended with what is new instead of
being rebuilt, so a poll costs in proportion to the points it brought, not to
the run's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class GrowingArray:
    """A float64 array with room to append: appending a few values copies nothing."""

    def __init__(self) -> None:
        """An empty array."""
        self._buffer = np.empty(0)
        self._size = 0

    def __len__(self) -> int:
        """How many values it holds."""
        return self._size

    @property
    def values(self) -> FloatArray:
        """The values (a view, valid until the next `reserve`)."""
        return self._buffer[: self._size]

    def reserve(self, count: int) -> FloatArray:
        """Append ``count`` uninitialised values and return them (a view) to be filled."""
        end = self._size + count
        if end > self._buffer.size:
            # Grow by half again at least, so that a stream of small appends is amortised.
            grown = np.empty(max(end, self._buffer.size + self._buffer.size // 2, 1024))
            grown[: self._size] = self._buffer[: self._size]
            self._buffer = grown
        start, self._size = self._size, end
        return self._buffer[start:end]

    def extend(self, values: npt.ArrayLike) -> None:
        """Append ``values`` (converted to float64)."""
        array = np.asarray(values, dtype=np.float64).ravel()
        self.reserve(array.size)[:] = array


def _bits(array: npt.NDArray[np.generic], index: int) -> bytes:
    # Compare the float's bytes, not its value: NaN != NaN.
    return np.float64(array[index]).tobytes()


@dataclass
class Followed:
    """How much of an append-only series a cache has taken in, to tell growth from a swap.

    Readers hand out a fresh view of the same growing buffer on every poll, so
    identity says nothing; the first and last values taken in, checked at their
    positions, tell a series that grew from a different one at O(1) cost.
    """

    count: int = 0
    first: bytes = b""
    last: bytes = b""

    def continued_by(self, values: npt.NDArray[np.generic]) -> bool:
        """Whether ``values`` is what was taken in, maybe with points appended."""
        n = self.count
        if len(values) < n:
            return False
        return n == 0 or (_bits(values, 0) == self.first and _bits(values, n - 1) == self.last)

    def take(self, values: npt.NDArray[np.generic]) -> None:
        """Record that everything in ``values`` has been taken in."""
        self.count = len(values)
        if self.count:
            self.first, self.last = _bits(values, 0), _bits(values, -1)
