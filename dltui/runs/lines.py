"""Splitting an append-only log into lines with bounded memory.

events.jsonl is read as it grows. A line may be torn (its writer is still writing
it, or was killed), and a hostile or broken file may hold a line of hundreds of
megabytes. `LineSplitter` keeps the torn end of what it was fed, so a poll reads
only the new bytes, and keeps at most ``max_line`` bytes of it: a longer line is
dropped as it streams past and reported as `TOO_LONG` once its end arrives.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

MAX_LINE: Final = 16 * 1024 * 1024
"""Longest event line kept (16 MiB); a longer line is skipped and counted."""

READ_CHUNK: Final = 4 * 1024 * 1024
"""Bytes read at a time from a log (bounds the memory of a first read of a huge log)."""

TOO_LONG: Final = b"\0too long"
"""Stands in for a line longer than the limit (the line itself is never kept)."""


class LineSplitter:
    """Turns bytes fed in any pieces into complete lines (without their ``\\n``)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        """A splitter keeping lines of up to ``max_line`` bytes."""
        self.max_line = max(1, max_line)
        self._partial = bytearray()
        self._skipping = False
        self._tail = 0

    @property
    def pending(self) -> int:
        """Bytes of the incomplete last line held now (0 while skipping an over-long one)."""
        return len(self._partial)

    @property
    def tail(self) -> int:
        """Bytes fed since the last newline (held or, for an over-long line, dropped)."""
        return self._tail

    @property
    def skipping(self) -> bool:
        """Whether the incomplete last line is already known to be too long."""
        return self._skipping

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that ``data`` completes; `TOO_LONG` for each over-long one."""
        first = data.find(b"\n")
        if first < 0:
            self._tail += len(data)
            self._hold(data)
            return []
        last = data.rfind(b"\n")
        self._tail = len(data) - last - 1
        # The line in progress ends at the first newline; the rest splits at C speed.
        head = data[:first]
        if self._skipping or len(self._partial) + len(head) > self.max_line:
            lines = [TOO_LONG]
        else:
            lines = [bytes(self._partial) + head if self._partial else head]
        self._partial.clear()
        self._skipping = False
        if last > first:
            middle = data[first + 1 : last].split(b"\n")
            if max(map(len, middle)) > self.max_line:
                middle = [line if len(line) <= self.max_line else TOO_LONG for line in middle]
            lines += middle
        self._hold(data[last + 1 :])
        return lines

    def _hold(self, rest: bytes) -> None:
        """Keep the start of an incomplete line, unless it is already too long."""
        if not rest:
            return
        if self._skipping or len(self._partial) + len(rest) > self.max_line:
            self._partial.clear()
            self._skipping = True
        else:
            self._partial += rest


def iter_lines(
    path: str | os.PathLike[str], *, max_line: int = MAX_LINE, chunk: int = READ_CHUNK
) -> Iterator[bytes]:
    """Every complete line of the file at ``path`` (`TOO_LONG` for over-long ones).

    A torn last line is left out. Opens without following a symbolic link.
    Raises OSError when the file cannot be opened or read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        splitter = LineSplitter(max_line)
        while True:
            data = os.read(fd, chunk)
            if not data:
                return
            yield from splitter.feed(data)
    finally:
        os.close(fd)
