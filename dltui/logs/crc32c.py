"""CRC-32C (Castagnoli), the checksum of TFRecord framing, for one buffer or a million.

TensorBoard event files frame every record with two masked CRC-32C sums. Python's
standard library has only CRC-32, so the table-driven form is here. Checking a
million small records one Python call at a time would cost more than the whole
read is allowed, so `crc32c_rows` checks many equally long records at once.

The trick is that a CRC without its initial and final inversion is linear over
GF(2): for two messages of one length, ``crc(a) ^ crc(b) == lin(a ^ b)``. A
million scalar records of one tag differ from the first in a dozen byte
positions (the time's low bytes, the step, the value), so each record's CRC is
the first one's, corrected by one table lookup per differing position.
"""

from __future__ import annotations

import numpy as np

_POLY = 0x82F63B78  # CRC-32C, reflected
_MASK_DELTA = 0xA282EAD8


def _table() -> np.ndarray:
    values = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        values = np.where(values & 1, (values >> 1) ^ np.uint32(_POLY), values >> 1)
    return values.astype(np.uint32)


TABLE = _table()
_TABLE_LIST = [int(v) for v in TABLE]


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """The CRC-32C of ``data`` (as `zlib.crc32` would be, with Castagnoli's polynomial)."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int | np.ndarray) -> int | np.ndarray:
    """TFRecord's masked form of a CRC: rotated right by 15 bits, plus a constant."""
    if isinstance(crc, np.ndarray):
        c = crc.astype(np.uint32)
        return ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(_MASK_DELTA)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


_position_tables: dict[int, np.ndarray] = {}


def shift_tables(length: int) -> np.ndarray:
    """``(length, 256)`` uint32: the linear CRC of a zero message of ``length`` bytes with
    byte value ``v`` at position ``i`` (row ``i``)."""
    have = _position_tables.get(length)
    if have is not None:
        return have
    rows = np.empty((length, 256), dtype=np.uint32)
    state = TABLE.copy()  # a byte at the last position: no zero bytes follow it
    rows[length - 1] = state
    for i in range(length - 2, -1, -1):
        state = TABLE[state & 0xFF] ^ (state >> np.uint32(8))
        rows[i] = state
    if len(_position_tables) > 256:
        _position_tables.clear()
    _position_tables[length] = rows
    return rows


def crc32c_rows(rows: np.ndarray) -> np.ndarray:
    """The CRC-32C of every row of the ``(n, length)`` uint8 array ``rows``, as uint32."""
    n, length = rows.shape
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    if length == 0:
        return np.zeros(n, dtype=np.uint32)
    first = rows[0]
    result = np.full(n, crc32c(first.tobytes()), dtype=np.uint32)
    varying = np.flatnonzero((rows != first).any(axis=0))
    if len(varying):
        tables = shift_tables(length)
        for i in varying:
            result ^= tables[i][rows[:, i] ^ first[i]]
    return result


_pair_tables: dict[tuple[int, int], np.ndarray] = {}
_PAIR_TABLES_KEPT = 48  # 256 KiB each


def pair_table(length: int, position: int) -> np.ndarray:
    """65536 uint32: the linear CRC of a zero message of ``length`` bytes holding the
    little-endian 16-bit value ``v`` at bytes ``position`` and ``position + 1``.

    One lookup here replaces two in `shift_tables`: fewer passes over a million rows.
    """
    key = (length, position)
    have = _pair_tables.get(key)
    if have is not None:
        return have
    rows = shift_tables(length)
    values = np.arange(65536, dtype=np.intp)
    table = rows[position][values & 0xFF] ^ rows[position + 1][values >> 8]
    if len(_pair_tables) >= _PAIR_TABLES_KEPT:
        _pair_tables.pop(next(iter(_pair_tables)))
    _pair_tables[key] = table
    return table
