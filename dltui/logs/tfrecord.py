"""TFRecord framing, found for a whole buffer at once.

A TensorBoard event file is a sequence of records::

    uint64 length | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)

(little-endian). Walking a million records one ``struct.unpack`` at a time is
most of a second in Python, so `scan_records` finds them with array operations:
every position where a record could start (an ``Event``'s first byte, 0x09, in
place and a plausible length) is a candidate; a candidate whose length CRC holds
is a record start with certainty short of 2**-32; consecutive starts must chain
(each record ends where the next begins). Where they do not — a corrupted
header, or garbage between records — the scan skips to the next valid start and
counts the bytes it skipped. A record whose end lies past the buffer is torn
(still being written): the scan stops before it, so a follower reads it later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltui.logs.crc32c import TABLE, crc32c, mask

HEADER = 12
"""Bytes before a record's data: length (8) and its masked CRC (4)."""
FOOTER = 4
"""Bytes after a record's data: its masked CRC."""
MAX_RECORD = 1 << 30
"""Longest record believed (1 GiB); a longer length is a corrupted header."""

_EVENT_FIRST_BYTE = 0x09  # Event.wall_time, field 1, fixed64: written first by every writer


@dataclass(frozen=True)
class Framing:
    """Where the complete records of a buffer are.

    ``starts``/``lengths``: each record's data offset and length, in file order;
    ``end``: the offset just past the last complete record (where a follower
    resumes); ``skipped_bytes``: bytes before ``end`` that belonged to no valid
    record (corruption); ``torn``: whether bytes after ``end`` look like a record
    still being written (as opposed to nothing at all).
    """

    starts: np.ndarray
    lengths: np.ndarray
    end: int
    skipped_bytes: int
    torn: bool


def _length_crc_table() -> tuple[int, np.ndarray]:
    # A length header is 8 little-endian bytes; lengths below 2**24 leave bytes 3-7
    # zero, so its CRC is the CRC of eight zero bytes corrected for bytes 0-2
    # (CRC without its inversions is linear, see `dltui.logs.crc32c`).
    base = crc32c(bytes(8))
    tables = []
    state = TABLE.copy()
    for _ in range(7 - 2):  # a byte at position 2 has five zero bytes after it
        state = TABLE[state & 0xFF] ^ (state >> np.uint32(8))
    for _ in range(3):
        tables.append(state)
        state = TABLE[state & 0xFF] ^ (state >> np.uint32(8))
    return base, np.stack(tables[::-1])  # rows: positions 0, 1, 2


_LENGTH_BASE, _LENGTH_TABLES = _length_crc_table()


def strided(buf: np.ndarray, dtype: str) -> np.ndarray:
    """A ``dtype`` view of ``buf`` at every byte offset: ``strided(buf, "<u4")[p]`` is the
    little-endian uint32 at byte ``p`` (one gather reads a field of every record)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray(shape=(max(0, len(buf) - size + 1),), dtype=dtype, buffer=buf, strides=(1,))


def header_crc_ok(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Whether the 12-byte headers at offsets ``at`` hold a length whose masked CRC matches."""
    length = strided(buf, "<u8")[at]
    small = length < np.uint64(1 << 24)
    crc = np.full(len(at), _LENGTH_BASE, dtype=np.uint32)
    low = length.astype(np.uint32)
    for k in range(3):
        crc ^= _LENGTH_TABLES[k][(low >> np.uint32(8 * k)) & np.uint32(0xFF)]
    ok = small & (np.asarray(mask(crc)) == strided(buf, "<u4")[at + 8])
    for i in np.flatnonzero(~small & (length <= np.uint64(MAX_RECORD))):
        p = int(at[i])
        ok[i] = mask(crc32c(buf[p : p + 8].tobytes())) == int.from_bytes(
            buf[p + 8 : p + 12].tobytes(), "little"
        )
    return ok


def _lengths_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return strided(buf, "<u8")[at].astype(np.int64)


def _one_header(buf: np.ndarray, pos: int) -> int | None:
    """The length of the record at ``pos`` if its header is whole and valid, else None."""
    if len(buf) - pos < HEADER:
        return None
    at = np.array([pos])
    if not header_crc_ok(buf, at)[0]:
        return None
    return int(_lengths_at(buf, at)[0])


def scan_records(buf: np.ndarray, start: int = 0) -> Framing:
    """The complete records of the uint8 array ``buf`` from offset ``start`` on."""
    size = len(buf)
    empty = np.zeros(0, dtype=np.int64)
    if size - start < HEADER + FOOTER:
        return Framing(empty, empty, start, 0, size > start)
    # Candidate starts: the data's first byte is an Event's 0x09, the length fits.
    window = buf[start + HEADER : size - FOOTER]
    cand = np.flatnonzero(window == _EVENT_FIRST_BYTE).astype(np.int64) + start
    if _one_header(buf, start) is not None and (not len(cand) or cand[0] != start):
        cand = np.concatenate(([start], cand))  # an event that does not begin with 0x09
    # Most candidates inside other records' data fail at once: their "length" is huge.
    # A valid header whose record runs past the buffer is the torn tail (or lies
    # inside a record's data by chance: the chain below decides).
    raw = strided(buf, "<u8")[cand]
    cand = cand[raw <= (size - cand - HEADER - FOOTER).astype(np.uint64)]
    cand = cand[header_crc_ok(buf, cand)]
    lengths = _lengths_at(buf, cand)
    ends = cand + HEADER + lengths + FOOTER
    breaks = np.flatnonzero(ends[:-1] != cand[1:])
    n = len(cand)
    out_starts: list[np.ndarray] = []
    out_lengths: list[np.ndarray] = []
    skipped = 0
    pos = start
    torn = False
    while pos < size:
        i = int(np.searchsorted(cand, pos))
        if i < n and cand[i] == pos:  # a chained run of candidates
            at = int(np.searchsorted(breaks, i))
            j = int(breaks[at]) if at < len(breaks) else n - 1
            out_starts.append(cand[i : j + 1])
            out_lengths.append(lengths[i : j + 1])
            pos = int(ends[j])
            continue
        length = _one_header(buf, pos)
        if length is not None and length <= MAX_RECORD:
            if pos + HEADER + length + FOOTER > size:
                torn = True  # still being written
                break
            out_starts.append(np.array([pos], dtype=np.int64))  # an event not led by 0x09
            out_lengths.append(np.array([length], dtype=np.int64))
            pos += HEADER + length + FOOTER
            continue
        if size - pos < HEADER:
            torn = True  # a header still being written
            break
        if i >= n:
            break  # garbage to the end: left unread, a writer may append after it
        skipped += int(cand[i]) - pos
        pos = int(cand[i])
    if out_starts:
        starts = np.concatenate(out_starts) + HEADER
        lens = np.concatenate(out_lengths)
    else:
        starts, lens = empty, empty
    return Framing(starts, lens, pos, skipped, torn)


def data_crc_ok(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Whether each record's data matches the masked CRC stored after it."""
    from dltui.logs.crc32c import crc32c_rows

    ok = np.zeros(len(starts), dtype=bool)
    if not len(starts):
        return ok
    stored = strided(buf, "<u4")[starts + lengths]
    for length in np.unique(lengths):
        sel = np.flatnonzero(lengths == length)
        rows = rows_at(buf, starts[sel], int(length))
        ok[sel] = np.asarray(mask(crc32c_rows(rows))) == stored[sel]
    return ok


def rows_at(buf: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """A copy of ``buf[s : s + length]`` for each ``s`` of ``starts``, as an (n, length) array."""
    if length == 0:
        return np.zeros((len(starts), 0), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(buf, length)
    return windows[starts]
