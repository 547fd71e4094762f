"""How much of a data file dltui reads, and the check every loader opens files through.

A data path is checked by the schema (a regular file or a folder, never a FIFO
or a device), and again here when it is opened, since a path can change between
the check and the load. Each format has a size limit that keeps one mistaken
path (a disk image, a log of many GiB) from exhausting the machine's memory:

- CSV, 256 MiB a file: it is held as text cells, several times its size;
  larger tables belong in ``.npy``/``.npz``.
- text (``source = "text"``), 256 MiB a file: characters become int64 token
  ids, 8 bytes each, and again as windows.
- NumPy, 16 GiB an array as its header declares: arrays are held in memory
  whole, and a header may not declare more than the file holds.
- images, 64 MiB and 50 million pixels each: far beyond a training image;
  Pillow's own decompression-bomb check starts higher.

docs/experiment-file.md lists them (generated from these constants).
The limits are refused with a `DataError` that names the field, the file and
the limit; nothing is read past them.
"""

from __future__ import annotations

from pathlib import Path

from dltui.bounded import FileLimitError, read_bytes_limited
from dltui.data.errors import DataError

MiB = 1024 * 1024

CSV_FILE_LIMIT = 256 * MiB
"""Largest CSV file read."""
TEXT_FILE_LIMIT = 256 * MiB
"""Largest text file read (``source = "text"``)."""
NUMPY_ARRAY_LIMIT = 16 * 1024 * MiB
"""Largest array a ``.npy`` or a member of a ``.npz`` may declare, in bytes."""
IMAGE_FILE_LIMIT = 64 * MiB
"""Largest image file read."""
IMAGE_PIXEL_LIMIT = 50_000_000
"""Most pixels (width x height) of one image."""


def read_data_bytes(path: Path, field: str, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    A folder, FIFO, device, missing file or a file over the limit is a
    `DataError` for ``field``; opening never blocks.
    """
    try:
        return read_bytes_limited(path, limit)
    except FileLimitError as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise DataError(field, reason, path) from None


def decode_text(data: bytes, path: Path, field: str) -> str:
    """``data`` as UTF-8; a `DataError` names the line and byte of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise DataError(
            field, f"line {line}, byte {column}: not UTF-8 text; save the file as UTF-8", path
        ) from None
