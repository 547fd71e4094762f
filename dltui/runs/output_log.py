"""A run's output.log as a terminal shows it: its last lines, or the lines since last read.

The trainer's stdout lands there with its progress bar, whose redraws are
carriage returns: a line keeps only what follows its last one, as on a
terminal. Reads are bounded (backwards from the end only as far as needed).
"""

from __future__ import annotations

import os


class OutputLog:
    """The output of one run, followed by size and read by lines."""

    def __init__(self, path: str) -> None:
        """Follow the file at ``path`` (it may not exist yet)."""
        self.path = path
        self.offset = 0
        """Bytes consumed by `read_new` so far."""
        self._size = 0

    def reset(self) -> None:
        """Forget what was read (the run's files were rewritten)."""
        self.offset = 0
        self._size = 0

    def grew(self) -> bool:
        """Whether the file's size changed since the last look."""
        size = _size(self.path)
        if size == self._size:
            return False
        self._size = size
        return True

    def tail(self, max_lines: int = 200) -> list[str]:
        """The last ``max_lines`` lines, as a terminal shows them.

        Reads backwards from the end only as far as needed. A carriage return
        (progress bars) keeps only what follows it on that line. The last line
        is included even without its newline.
        """
        if max_lines <= 0:
            return []
        try:
            with open(self.path, "rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                start = end
                data = b""
                while start > 0 and data.count(b"\n") <= max_lines:
                    step = min(start, 1 << 16)
                    start -= step
                    handle.seek(start)
                    data = handle.read(step) + data
        except OSError:
            return []
        lines = terminal_lines(data)
        if start > 0 and lines:
            lines = lines[1:]  # the first one is probably cut
        return lines[-max_lines:]

    def read_new(self, max_bytes: int = 1 << 20) -> list[str]:
        """The complete lines written since the last call.

        The first call (or one after a long pause) returns at most the last
        ``max_bytes`` worth of lines, skipping older output.
        """
        size = _size(self.path)
        if size < self.offset:
            self.offset = 0  # truncated/rewritten
        if size <= self.offset:
            return []
        start = max(self.offset, size - max_bytes)
        try:
            with open(self.path, "rb") as handle:
                handle.seek(start)
                data = handle.read(size - start)
        except OSError:
            return []
        if start > self.offset:
            cut = data.find(b"\n")
            if cut < 0:
                return []
            data, start = data[cut + 1 :], start + cut + 1
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset = start + end + 1
        return terminal_lines(data[: end + 1])


def terminal_lines(data: bytes) -> list[str]:
    """``data`` split into lines, each as a terminal leaves it after its carriage returns."""
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    result = []
    for line in lines:
        if "\r" in line:
            line = line.rstrip("\r")
            line = line[line.rfind("\r") + 1 :]
        result.append(line)
    return result


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
