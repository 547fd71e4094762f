"""A million plain scalar events, decoded with array operations instead of a Python loop.

``SummaryWriter.add_scalar`` writes one ``Event`` per value, and every one has the
same shape::

    09 <wall_time: 8>  [10 <step: varint>]  2a <n>  0a <n>  0a <len> <tag>  15 <value: 4>

`decode_scalars` recognises that shape in all records at once, reads the time,
step, tag and value of those that have it, and checks their CRCs (by the linear
correction of `dltui.logs.crc32c`: records of one tag and layout differ only in
the time, step and value bytes). Records of any other shape — the file version,
text, hparams, histograms, tensor-style scalars, several values in one event —
are left for the general decoder, `dltui.logs.events.decode_event`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltui.logs.crc32c import crc32c, mask, pair_table, shift_tables
from dltui.logs.tfrecord import strided

_MAX_TAG_PASSES = 32  # distinct tags told apart by comparison before sorting instead
_CONTINUATION = np.uint64(0x8080808080808080)
_LOW_BYTES = np.array(
    [0] + [(1 << (8 * k)) - 1 for k in range(1, 8)] + [(1 << 64) - 1], dtype=np.uint64
)
"""``_LOW_BYTES[k]`` keeps the low ``k`` bytes of a uint64."""


@dataclass
class ScalarBatch:
    """What `decode_scalars` read: one entry per record of the plain-scalar shape.

    ``rows``: which of the records given have that shape (the rest are the general
    decoder's), in order; then for each of those ``crc_ok`` (its data CRC holds),
    ``tag_index`` into ``tags``, ``wall``, ``step`` and ``value`` (the float32
    written, widened).
    """

    rows: np.ndarray
    crc_ok: np.ndarray
    tag_index: np.ndarray
    tags: list[bytes]
    wall: np.ndarray
    step: np.ndarray
    value: np.ndarray


def _tag_ids(words: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Group rows whose tag words are all equal: ``(group id per row, one row per group)``."""
    m = len(words[0])
    ids = np.full(m, -1, dtype=np.int64)
    firsts: list[int] = []
    remaining = np.arange(m)
    while len(remaining) and len(firsts) < _MAX_TAG_PASSES:
        r0 = int(remaining[0])
        same = np.ones(len(remaining), dtype=bool)
        for w in words:
            same &= w[remaining] == w[r0]
        ids[remaining[same]] = len(firsts)
        firsts.append(r0)
        remaining = remaining[~same]
    if len(remaining):  # many tags: sort the rest once
        keys = np.ascontiguousarray(np.stack([w[remaining] for w in words], axis=1))
        packed = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        _, first_at, inverse = np.unique(packed, return_index=True, return_inverse=True)
        ids[remaining] = inverse.ravel() + len(firsts)
        firsts.extend(int(remaining[i]) for i in first_at)
    return ids, firsts


def _varying_bytes(words: list[np.ndarray]) -> list[tuple[int, int]]:
    """``(word, byte)`` positions where any row differs from the first row."""
    out: list[tuple[int, int]] = []
    for j, w in enumerate(words):
        every = int(np.bitwise_or.reduce(w ^ w[0]))
        out.extend((j, b) for b in range(8) if (every >> (8 * b)) & 0xFF)
    return out


def _group_tags(words: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Rows with equal tag words share a group: ``(group per row, one row of each group)``.

    Tags of one length usually differ in a byte or two (``loss/train``, ``loss/valid``):
    those bytes are then a small integer key, counted in one pass; otherwise rows are
    compared tag by tag (`_tag_ids`).
    """
    varying = _varying_bytes(words)
    if len(varying) > 2:
        return _tag_ids(words)
    m = len(words[0])
    key = np.zeros(m, dtype=np.int64)
    for j, b in varying:
        key = (key << 8) | ((words[j] >> np.uint64(8 * b)) & np.uint64(0xFF)).astype(np.int64)
    present = np.flatnonzero(np.bincount(key))
    lut = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    lut[present] = np.arange(len(present))
    # Rows with one key have equal tag bytes, so any of them represents the group.
    representative = np.zeros(len(lut), dtype=np.int64)
    representative[key] = np.arange(m)
    return lut[key], [int(representative[p]) for p in present]


def _correction(size: int, diffs: list[tuple[int, np.ndarray, int]]) -> np.ndarray:
    """XOR of the linear CRC contributions of every nonzero byte of the ``diffs``.

    Each diff is ``(position of its first byte, per-row bytes as a contiguous
    unsigned array, how many bytes)`` within records of ``size`` bytes; only byte
    pairs that differ in some row cost a lookup (`pair_table`: two bytes at once).
    """
    crc = np.zeros(len(diffs[0][1]), dtype=np.uint32)
    single = shift_tables(size)
    for position, diff, nbytes in diffs:
        every = int(np.bitwise_or.reduce(diff))
        halves = diff.view(np.uint16).reshape(len(diff), -1)
        for j in range((nbytes + 1) // 2):
            at = position + 2 * j
            if not (every >> (16 * j)) & 0xFFFF:
                continue
            if at + 1 < size and len(diff) >= 4096:
                crc ^= pair_table(size, at)[halves[:, j]]
            else:  # few rows: two small lookups beat building a pair table
                for b in range(2 * j, min(2 * j + 2, nbytes)):
                    if (every >> (8 * b)) & 0xFF:
                        crc ^= single[position + b][(diff >> diff.dtype.type(8 * b)) & 0xFF]
    return crc


def decode_scalars(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> ScalarBatch:
    """Decode the plain-scalar records among those at ``starts`` (data offsets) of ``buf``.

    ``buf`` must extend at least 16 bytes past the last record's CRC (callers pad it).
    """
    n = len(starts)
    none = np.zeros(0, dtype=np.int64)
    batch = ScalarBatch(
        none, none.astype(bool), none, [], none.astype(float), none, none.astype(float)
    )
    if not n:
        return batch
    u8, u16, u32, u64 = buf, strided(buf, "<u2"), strided(buf, "<u4"), strided(buf, "<u8")
    f32, f64 = strided(buf, "<f4"), strided(buf, "<f8")
    s = starts
    ends = s + lengths
    good = (lengths >= 20) & (u8[s] == 0x09)
    # The step: a varint after 0x10, absent when 0. Its length k is where the first
    # byte without a continuation bit is, found for 8 bytes at once.
    has_step = u8[s + 9] == 0x10
    raw_step = u64[s + 10]
    stop = ~raw_step & _CONTINUATION
    lowest = stop & (~stop + np.uint64(1))
    k = (np.frexp(lowest.astype(np.float64))[1] >> 3).astype(np.int64)  # 0: none in 8 bytes
    good &= ~has_step | (k > 0)
    k = np.where(has_step, k, 0)
    kept = raw_step & _LOW_BYTES[k]
    step = kept & np.uint64(0x7F)
    for j in range(1, int(k.max())):
        step |= (kept >> np.uint64(j)) & np.uint64(0x7F << (7 * j))
    q = s + 9 + np.where(has_step, 1 + k, 0)
    # Then 2a <n> 0a <n> 0a <tag length>: one summary holding one tagged value.
    head = u32[q]
    inner = u16[q + 4]
    slen = ((head >> np.uint32(8)) & np.uint32(0xFF)).astype(np.int64)
    vlen = (head >> np.uint32(24)).astype(np.int64)
    tlen = (inner >> np.uint16(8)).astype(np.int64)
    good &= (head & np.uint32(0x80FF80FF)) == np.uint32(0x000A002A)
    good &= (inner & np.uint16(0x80FF)) == np.uint16(0x0A)
    good &= (slen == tlen + 9) & (vlen == tlen + 7) & (q + 11 + tlen == ends)
    good &= u8[np.minimum(q + 6 + tlen, len(buf) - 1)] == 0x15  # simple_value
    wall = f64[s + 1]
    value = f32[ends - 4]
    if good.all():
        rows = np.arange(n)
    else:
        rows = np.flatnonzero(good)
        s, ends, q, tlen, k, raw_step = (a[rows] for a in (s, ends, q, tlen, k, raw_step))
        step, wall, value = step[rows], wall[rows], value[rows]
    m = len(rows)
    if not m:
        return batch
    batch.rows, batch.wall, batch.step = rows, wall, step.view(np.int64)
    batch.value = value.astype(np.float64)

    # Tags, one tag length at a time, as (masked) 8-byte words.
    tags = batch.tags
    group = np.zeros(m, dtype=np.int64)
    counts = np.bincount(tlen)
    for tl in np.flatnonzero(counts):
        sel = None if counts[tl] == m else np.flatnonzero(tlen == tl)
        start = (q if sel is None else q[sel]) + 6
        words = []
        for j in range(max(1, (int(tl) + 7) // 8)):
            w = u64[start + 8 * j]
            left = int(tl) - 8 * j
            words.append(w if left >= 8 else w & _LOW_BYTES[left])
        ids, firsts = _group_tags(words)
        ids += len(tags)
        for first in firsts:
            p = int(start[first])
            tags.append(buf[p : p + int(tl)].tobytes())
        if sel is None:
            group = ids
        else:
            group[sel] = ids
    batch.tag_index = group

    # CRCs: records of one layout (tag length and step length) differ from the first
    # only in the time, step, tag and value bytes; correct the first one's CRC for
    # those (see `dltui.logs.crc32c`).
    layout = tlen * 16 + k
    if int(layout.max()) < 32768:
        layout = layout.astype(np.int16)  # sorted by radix
    order = np.argsort(layout, kind="stable")
    crc_ok = np.zeros(m, dtype=bool)
    for part in np.split(order, np.flatnonzero(np.diff(layout[order])) + 1):
        r0 = int(part[0])
        p0, size = int(s[r0]), int(ends[r0] - s[r0])
        crc = np.full(len(part), crc32c(buf[p0 : p0 + size].tobytes()), dtype=np.uint32)
        if len(part) > 1:
            sp = s[part]
            k0, tag_len = int(k[r0]), int(tlen[r0])
            tag_at = int(q[r0]) - p0 + 6
            diffs: list[tuple[int, np.ndarray, int]] = [
                (1, wall[part].view(np.uint64) ^ wall[r0 : r0 + 1].view(np.uint64), 8),
                (size - 4, u32[sp + size - 4] ^ u32[p0 + size - 4], 4),
            ]
            if k0:
                diffs.append((10, (raw_step[part] ^ raw_step[r0]) & _LOW_BYTES[k0], k0))
            for j in range(0, tag_len, 8):
                width = min(8, tag_len - j)
                w = u64[sp + tag_at + j] ^ u64[p0 + tag_at + j]
                diffs.append((tag_at + j, w & _LOW_BYTES[width], width))
            crc ^= _correction(size, diffs)
        crc_ok[part] = np.asarray(mask(crc)) == u32[s[part] + size]
    batch.crc_ok = crc_ok
    return batch
