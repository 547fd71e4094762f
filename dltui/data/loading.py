"""``describe`` and ``load_data``: the two entry points every part of dltui uses.

Each source family lives in its own module with a ``describe(spec)`` and a
``load(spec, seed)``; they are imported only when asked for, so importing
:mod:`dltui.data` costs nothing and never imports torch.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dltui.data.errors import DataError
from dltui.data.info import DataInfo, Splits, TensorSplit

if TYPE_CHECKING:
    from dltui.data.arrays import ArraySet, ArraySplits
    from dltui.spec.data import DataSpec

_SOURCE_MODULES = {
    "spirals": "playground",
    "circles": "playground",
    "xor": "playground",
    "gaussian": "playground",
    "moons": "playground",
    "plane": "playground",
    "sine": "sine",
    "chars": "text",
    "text": "text",
    "gmm2d": "gaussian_mixture",
    "digits": "digits",
    "csv": "tabular",
    "numpy": "numpy_files",
    "image_folder": "image_folder",
}


class _SourceModule(Protocol):
    def describe(self, spec: DataSpec) -> DataInfo: ...

    def load(self, spec: DataSpec, seed: int) -> tuple[ArraySplits, DataInfo]: ...


def _module(spec: DataSpec) -> _SourceModule:
    name = _SOURCE_MODULES.get(spec.source)
    if name is None:  # the schema admits only known sources; this guards a new one
        raise DataError("data.source", f"no loader for source {spec.source!r}")
    module: _SourceModule = importlib.import_module(f"dltui.data.{name}")
    return module


def check_settings(spec: DataSpec, info: DataInfo) -> None:
    """Reject options that cannot apply to this data (augmenting tokens, flipping vectors)."""
    if info.input_dtype == "int64" and spec.normalize != "none":
        raise DataError(
            "data.normalize",
            f'{spec.normalize!r} scaling does not apply to token ids; use "none"',
        )
    augment = spec.augment
    if augment is None:
        return
    if info.input_dtype == "int64" and augment.noise > 0:
        raise DataError("data.augment.noise", "noise cannot be added to token ids; use 0")
    is_image = len(info.input_shape) == 3
    for name in ("flip_horizontal", "flip_vertical", "shift"):
        if getattr(augment, name) and not is_image:
            raise DataError(
                f"data.augment.{name}",
                f"applies to images (C, H, W); these samples have shape {info.input_shape}",
            )
    if is_image and augment.shift >= min(info.input_shape[1:]):
        raise DataError(
            "data.augment.shift",
            f"{augment.shift} px is not smaller than the "
            f"{info.input_shape[1]}x{info.input_shape[2]} images",
        )


def describe(spec: DataSpec) -> DataInfo:
    """Shapes, task, classes and sample count of ``spec``'s data, without loading it all.

    Raises :class:`DataError` for data that cannot be used as the spec asks.
    Data read from the user's files is remembered per spec while those files are
    unchanged (see `_file_stamp`): a CSV is read whole to be described, and the
    builder asks again on every edit.
    """
    stamp = _file_stamp(spec)
    if not stamp:  # generated or packaged data: cheap to describe, nothing to go stale
        info = _module(spec).describe(spec)
        check_settings(spec, info)
        return info
    key = spec.model_dump_json()
    known = _DESCRIBED.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    info = _module(spec).describe(spec)
    check_settings(spec, info)
    _DESCRIBED[key] = (stamp, info)
    while len(_DESCRIBED) > _DESCRIBED_MAX:
        _DESCRIBED.pop(next(iter(_DESCRIBED)))
    return info


_DESCRIBED: dict[str, tuple[tuple[tuple[str, int, int], ...], DataInfo]] = {}
"""``describe``'s results: spec JSON -> (file stamp, info), oldest first."""
_DESCRIBED_MAX = 32


def _file_stamp(spec: DataSpec) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every file or folder the spec names, and of a folder's
    sub-folders (an image folder's classes): what a describe result depends on."""
    stamps: list[tuple[str, int, int]] = []
    for value in spec.model_dump().values():
        if not isinstance(value, Path):
            continue
        try:
            stat = value.stat()
            stamps.append((str(value), stat.st_mtime_ns, stat.st_size))
            if value.is_dir():
                for entry in sorted(os.scandir(value), key=lambda e: e.name):
                    if entry.is_dir():
                        sub = entry.stat()
                        stamps.append((entry.path, sub.st_mtime_ns, sub.st_size))
        except OSError:
            stamps.append((str(value), -1, -1))  # gone: describing it again says so
    return tuple(stamps)


def load_data(spec: DataSpec, seed: int) -> Splits:
    """Load ``spec``'s data as CPU tensors split into train, val and test.

    ``seed`` is the experiment's seed; the data table's own ``seed`` wins when
    set. The same seed always gives the same samples in the same splits.
    Normalisation statistics come from the training split only.
    """
    from dltui.data.normalization import normalize_splits

    effective_seed = spec.seed if spec.seed is not None else seed
    arrays, info = _module(spec).load(spec, effective_seed)
    check_settings(spec, info)
    if info.input_dtype == "float32":
        arrays = normalize_splits(arrays, spec.normalize)
    return Splits(
        train=_tensors(arrays.train, info),
        val=_tensors(arrays.val, info),
        test=_tensors(arrays.test, info),
        info=info,
    )


def _tensors(part: ArraySet, info: DataInfo) -> TensorSplit:
    import numpy as np
    import torch

    x_dtype = np.int64 if info.input_dtype == "int64" else np.float32
    y_dtype = np.float32 if info.task == "regression" else np.int64
    x = torch.from_numpy(np.ascontiguousarray(part.x, dtype=x_dtype))
    y = torch.from_numpy(np.ascontiguousarray(part.y, dtype=y_dtype))
    return TensorSplit(x, y)
