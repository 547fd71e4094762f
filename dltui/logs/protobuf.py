"""The protobuf wire format, read by hand: just enough to take apart TensorBoard's messages.

A message is a sequence of fields, each a key (``field_number << 3 | wire_type``)
and a value: a varint (0), 8 bytes (1), a length-prefixed byte string (2) or
4 bytes (5). `fields` yields them; a malformed message raises `WireError`.
Nothing here knows TensorBoard's messages (see `dltui.logs.events`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5

_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the offset after it."""
    result = shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def signed64(value: int) -> int:
    """An int64 field's varint as the signed number it encodes."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field_number, wire_type, value)`` for each field of the message ``data``.

    Varints come as ints; fixed64/fixed32 as their raw 8 or 4 bytes; length-delimited
    fields as bytes.
    """
    pos, end = 0, len(data)
    while pos < end:
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | bytes
        if wire == VARINT:
            value, pos = varint(data, pos)
        elif wire == FIXED64:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == BYTES:
            length, pos = varint(data, pos)
            if pos + length > end:
                raise WireError("length past the end of the message")
            value, pos = data[pos : pos + length], pos + length
        elif wire == FIXED32:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise WireError(f"unsupported wire type {wire}")
        yield number, wire, value


def as_double(raw: int | bytes) -> float:
    """A fixed64 field as a double."""
    if not isinstance(raw, bytes) or len(raw) != 8:
        raise WireError("expected a double")
    return float(_DOUBLE.unpack(raw)[0])


def as_float(raw: int | bytes) -> float:
    """A fixed32 field as a float."""
    if not isinstance(raw, bytes) or len(raw) != 4:
        raise WireError("expected a float")
    return float(_FLOAT.unpack(raw)[0])


def as_bytes(raw: int | bytes) -> bytes:
    """A length-delimited field's bytes."""
    if not isinstance(raw, bytes):
        raise WireError("expected a length-delimited field")
    return raw


def as_int(raw: int | bytes) -> int:
    """A varint field's value."""
    if not isinstance(raw, int):
        raise WireError("expected a varint")
    return raw


def packed_varints(data: bytes) -> list[int]:
    """The values of a packed repeated varint field."""
    out, pos = [], 0
    while pos < len(data):
        value, pos = varint(data, pos)
        out.append(value)
    return out
