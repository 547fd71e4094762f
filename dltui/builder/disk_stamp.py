"""What a file on disk looked like when the builder last read or wrote it.

The modification time alone misses edits within the filesystem's time
resolution and flags a `touch` as a change; the hash settles both, and is only
computed when the time or size moved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DiskStamp:
    """Modification time, size and SHA-256 of a file's bytes."""

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of_bytes(cls, path: Path, data: bytes) -> DiskStamp:
        """The stamp of ``path`` whose content is known to be ``data``."""
        stat = path.stat()
        return cls(stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest())

    @classmethod
    def read(cls, path: Path) -> DiskStamp | None:
        """The stamp of ``path`` now, or ``None`` when it does not exist."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return cls.of_bytes(path, data)

    def matches(self, path: Path) -> bool:
        """Whether ``path`` still holds the bytes this stamp was taken of."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        if stat.st_mtime_ns == self.mtime_ns and stat.st_size == self.size:
            return True
        if stat.st_size != self.size:
            return False
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == self.sha256
        except OSError:
            return False
