"""TensorBoard's ``Event`` message, decoded by hand from its wire format.

This is the general, one-record-at-a-time path: every field TensorBoard's own
loader looks at for scalars, text, hparams and the presence of histograms,
images and audio. The million plain scalars of a long run take the vectorised
path in `dltui.logs.scalar_records`, which must agree with this one (the tests
check both against TensorBoard's reader).

Field numbers are those of tensorboard/compat/proto/{event,summary,tensor}.proto.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dltui.logs.protobuf import (
    BYTES,
    FIXED32,
    VARINT,
    WireError,
    as_bytes,
    as_double,
    as_float,
    as_int,
    fields,
    packed_varints,
    signed64,
)

SESSION_START = 1  # SessionLog.SessionStatus.START

# TensorProto's DataType values that can hold one number, and numpy's name for them.
_NUMERIC_DTYPES = {
    1: "<f4",  # DT_FLOAT
    2: "<f8",  # DT_DOUBLE
    3: "<i4",  # DT_INT32
    4: "u1",  # DT_UINT8
    5: "<i2",  # DT_INT16
    6: "i1",  # DT_INT8
    9: "<i8",  # DT_INT64
    10: "?",  # DT_BOOL
    17: "<u2",  # DT_UINT16
    19: "<f2",  # DT_HALF
    22: "<u4",  # DT_UINT32
    23: "<u8",  # DT_UINT64
}
_DT_STRING = 7
_DT_BFLOAT16 = 14

# What a value's plugin makes of it (tensorboard/plugins/*/metadata.py: PLUGIN_NAME).
_PLUGIN_KINDS = {
    "scalars": "scalar",
    "text": "text",
    "hparams": "hparams",
    "histograms": "histogram",
    "images": "image",
    "audio": "audio",
}


@dataclass
class SummaryValue:
    """One ``Summary.Value``: what it is (``kind``) and, for scalars and text, its content.

    ``kind`` is ``scalar``, ``text``, ``hparams``, ``histogram``, ``image``, ``audio``
    or ``tensor`` (anything else TensorBoard's plugins draw).
    """

    tag: str
    kind: str
    value: float | None = None
    text: str | None = None
    plugin: str | None = None
    content: bytes = b""


@dataclass
class Event:
    """One decoded ``Event``."""

    wall_time: float = 0.0
    step: int = 0
    file_version: str | None = None
    values: list[SummaryValue] = field(default_factory=list)
    session_status: int | None = None
    has_graph: bool = False


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _tensor_numbers(data: bytes) -> tuple[int, list[int], np.ndarray | None, list[bytes]]:
    """``(dtype, shape, numbers or None, strings)`` of a TensorProto."""
    dtype = 0
    shape: list[int] = []
    content = b""
    typed: dict[int, list[Any]] = {}
    strings: list[bytes] = []
    for number, wire, raw in fields(data):
        if number == 1 and wire == VARINT:
            dtype = as_int(raw)
        elif number == 2 and wire == BYTES:
            for dnum, dwire, draw in fields(as_bytes(raw)):  # TensorShapeProto.dim
                if dnum == 2 and dwire == BYTES:
                    size = 0
                    for snum, swire, sraw in fields(as_bytes(draw)):
                        if snum == 1 and swire == VARINT:
                            size = signed64(as_int(sraw))
                    shape.append(size)
        elif number == 4 and wire == BYTES:
            content = as_bytes(raw)
        elif number == 8 and wire == BYTES:
            strings.append(as_bytes(raw))
        elif number == 5:  # float_val
            if wire == BYTES:
                typed.setdefault(5, []).extend(np.frombuffer(as_bytes(raw), "<f4").tolist())
            elif wire == FIXED32:
                typed.setdefault(5, []).append(as_float(raw))
        elif number == 6:  # double_val
            if wire == BYTES:
                typed.setdefault(6, []).extend(np.frombuffer(as_bytes(raw), "<f8").tolist())
            else:
                typed.setdefault(6, []).append(as_double(raw))
        elif number in (7, 10, 11, 13, 16, 17):  # int, int64, bool, half, uint32, uint64
            values = packed_varints(as_bytes(raw)) if wire == BYTES else [as_int(raw)]
            typed.setdefault(number, []).extend(values)
    if dtype == _DT_STRING:
        return dtype, shape, None, strings
    numbers: np.ndarray | None = None
    if dtype == _DT_BFLOAT16:
        bits = np.frombuffer(content, "<u2") if content else np.array(typed.get(13, []), "<u2")
        numbers = (bits.astype(np.uint32) << 16).view(np.float32)
    elif dtype in _NUMERIC_DTYPES:
        np_type = np.dtype(_NUMERIC_DTYPES[dtype])
        if content:
            numbers = np.frombuffer(
                content[: len(content) // np_type.itemsize * np_type.itemsize], np_type
            )
        elif dtype == 1:
            numbers = np.array(typed.get(5, []), np.float32)
        elif dtype == 2:
            numbers = np.array(typed.get(6, []), np.float64)
        elif dtype == 19:
            numbers = np.array(typed.get(13, []), np.uint16).view(np.float16)
        elif dtype == 9:
            numbers = np.array([signed64(v) for v in typed.get(10, [])], np.int64)
        elif dtype == 23:
            numbers = np.array(typed.get(17, []), np.uint64)
        elif dtype == 22:
            numbers = np.array(typed.get(16, []), np.uint32)
        elif dtype == 10:
            numbers = np.array(typed.get(11, []), bool)
        else:  # the int32 family
            numbers = np.array([signed64(v) for v in typed.get(7, [])], np.int64)
    return dtype, shape, numbers, strings


def _scalar_of(numbers: np.ndarray | None, shape: list[int]) -> float | None:
    """The one number of a tensor (a 0-d or 1-element tensor), as TensorBoard reads it."""
    if numbers is None:
        return None
    count = math.prod(shape) if shape else 1
    if count != 1 or len(numbers) == 0:
        return None
    return float(numbers[0])


def _value(data: bytes) -> SummaryValue:
    tag = ""
    node_name = ""
    simple: float | None = None
    plugin: str | None = None
    content = b""
    tensor: bytes | None = None
    kind: str | None = None
    for number, wire, raw in fields(data):
        if number == 1 and wire == BYTES:
            tag = _text(as_bytes(raw))
        elif number == 7 and wire == BYTES:
            node_name = _text(as_bytes(raw))
        elif number == 2 and wire == FIXED32:
            simple = as_float(raw)
        elif number == 9 and wire == BYTES:
            for mnum, mwire, mraw in fields(as_bytes(raw)):
                if mnum == 1 and mwire == BYTES:  # plugin_data
                    for pnum, pwire, praw in fields(as_bytes(mraw)):
                        if pnum == 1 and pwire == BYTES:
                            plugin = _text(as_bytes(praw))
                        elif pnum == 2 and pwire == BYTES:
                            content = as_bytes(praw)
        elif number == 8 and wire == BYTES:
            tensor = as_bytes(raw)
        elif number in (3, 5):
            kind = "histogram"
        elif number == 4:
            kind = "image"
        elif number == 6:
            kind = "audio"
    tag = tag or node_name
    if simple is not None:
        return SummaryValue(tag, "scalar", value=simple, plugin=plugin)
    if kind is not None:
        return SummaryValue(tag, kind, plugin=plugin)
    plugin_kind = _PLUGIN_KINDS.get(plugin or "")
    if plugin_kind == "hparams":
        return SummaryValue(tag, "hparams", plugin=plugin, content=content)
    if tensor is not None:
        dtype, shape, numbers, strings = _tensor_numbers(tensor)
        if plugin_kind == "text" or (plugin is None and dtype == _DT_STRING):
            return SummaryValue(
                tag, "text", text="\n".join(_text(s) for s in strings), plugin=plugin
            )
        if plugin_kind in (None, "scalar"):
            number_value = _scalar_of(numbers, shape)
            if number_value is not None:
                return SummaryValue(tag, "scalar", value=number_value, plugin=plugin)
        return SummaryValue(tag, plugin_kind or "tensor", plugin=plugin)
    return SummaryValue(tag, plugin_kind or "tensor", plugin=plugin, content=content)


def decode_event(data: bytes) -> Event:
    """Decode one record's data as an ``Event``; raises `WireError` when it is not one."""
    event = Event()
    for number, wire, raw in fields(data):
        if number == 1 and wire == 1:
            event.wall_time = as_double(raw)
        elif number == 2 and wire == VARINT:
            event.step = signed64(as_int(raw))
        elif number == 3 and wire == BYTES:
            event.file_version = _text(as_bytes(raw))
        elif number in (4, 9):
            event.has_graph = True
        elif number == 5 and wire == BYTES:
            for snum, swire, sraw in fields(as_bytes(raw)):
                if snum == 1 and swire == BYTES:
                    event.values.append(_value(as_bytes(sraw)))
        elif number == 7 and wire == BYTES:
            for lnum, lwire, lraw in fields(as_bytes(raw)):
                if lnum == 1 and lwire == VARINT:
                    event.session_status = as_int(lraw)
    return event


def hparams_of(content: bytes) -> dict[str, object]:
    """The hyper-parameters in an hparams plugin's ``session_start_info`` content."""
    out: dict[str, object] = {}
    try:
        for number, wire, raw in fields(content):
            if number != 3 or wire != BYTES:  # HParamsPluginData.session_start_info
                continue
            for snum, swire, sraw in fields(as_bytes(raw)):
                if snum != 1 or swire != BYTES:  # SessionStartInfo.hparams (map entries)
                    continue
                key, value = "", None
                for enum_, ewire, eraw in fields(as_bytes(sraw)):
                    if enum_ == 1 and ewire == BYTES:
                        key = _text(as_bytes(eraw))
                    elif enum_ == 2 and ewire == BYTES:
                        value = _struct_value(as_bytes(eraw))
                if key:
                    out[key] = value
    except WireError:
        return out
    return out


def _struct_value(data: bytes) -> object:
    """A ``google.protobuf.Value`` holding a number, string or bool (others as None)."""
    for number, wire, raw in fields(data):
        if number == 2 and wire == 1:
            return as_double(raw)
        if number == 3 and wire == BYTES:
            return _text(as_bytes(raw))
        if number == 4 and wire == VARINT:
            return bool(raw)
    return None
