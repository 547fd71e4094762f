"""The run directory's record layout and small shared helpers.

The binary record of scalars.bin, run ids, the name rule for folders and the
JSON the files hold live here, so the writer, the reader and discovery cannot
disagree about them; the names both sides spell alike (files, states, tags)
are in `dltui.run_format`.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import struct
import time
from typing import Any

import numpy as np

from dltui.names import name_problem

RECORD_STRUCT = struct.Struct("<Ifqdd")
"""One scalar record: tag u4, epoch f4, step i8, time f8, value f8 (little-endian)."""

RECORD_SIZE = RECORD_STRUCT.size

RECORD_DTYPE = np.dtype(
    [("tag", "<u4"), ("epoch", "<f4"), ("step", "<i8"), ("time", "<f8"), ("value", "<f8")]
)
"""numpy's view of the same record, for vectorised reading."""

assert RECORD_SIZE == RECORD_DTYPE.itemsize == 32

MAX_TAGS = 2**32 - 1
"""Tag ids are u4: a run can declare at most this many tags."""


def new_run_id(now: float | None = None) -> str:
    """A sortable run id: UTC time to the second plus 4 random hex digits.

    Example: ``20261123-151200-3f2a``. Ids sort in creation order (to the
    second); the random suffix keeps two runs started in the same second apart.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def check_name(value: str, what: str) -> str:
    """Return ``value`` if it is usable as one path component, else raise ValueError.

    ``what`` names the argument in the message (``experiment``, ``run_id``). The
    rule is `dltui.names.name_problem`, the one the experiment schema applies.
    """
    why = name_problem(value)
    if why is not None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:59] + "…"
        raise ValueError(f"{what} {shown} cannot be a folder name: it {why}")
    return value


def json_default(obj: Any) -> Any:
    """The plain JSON value of what `json` cannot write (numpy values, tensors, paths)."""
    # Trainers hand over numpy scalars, tensors and paths; store their plain value.
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def dumps(obj: Any) -> str:
    """JSON text for one value: compact, non-finite floats as ``NaN``/``Infinity``.

    Values JSON cannot hold (numpy scalars and arrays, tensors, paths) are
    converted to their plain Python value; anything else becomes its ``str``.
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=json_default)


def number_or_none(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number, or NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return None if math.isnan(result) else result
