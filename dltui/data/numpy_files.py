"""NumPy files: a ``.npz`` holding arrays ``x_key`` and ``y_key``, or a ``.npy`` of
inputs with a ``targets`` ``.npy`` beside it.

``describe`` reads only the array headers of the inputs (their shapes), and the
targets (needed to count classes). Inputs of any numeric dtype become float32.
A header may declare at most `NUMPY_ARRAY_LIMIT` bytes, and no more than the
file holds, so a crafted or truncated file is refused before anything is
allocated. NumPy's own messages quote the bytes they found; errors here use
their own words instead.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

import numpy as np

from dltui.bounded import FileLimitError, check_regular_file
from dltui.data.arrays import ArraySet, ArraySplits
from dltui.data.errors import DataError, near_miss, quoted
from dltui.data.info import DataInfo
from dltui.data.labels import ClassIndex, resolve_task
from dltui.data.limits import NUMPY_ARRAY_LIMIT
from dltui.data.splitting import split_file_sets
from dltui.spec.data import NumpyData


def _kind(path: Path, field: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".npy"):
        raise DataError(field, f"expected a .npz or .npy file, got {quoted(path.name)}", path)
    return suffix


def _open(path: Path, field: str) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; never blocks (a FIFO is refused)."""
    try:
        check_regular_file(path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | os.O_CLOEXEC)
    except FileLimitError as err:
        raise DataError(field, str(err).removeprefix(f"{path}: "), path) from None
    except OSError as err:
        raise DataError(field, f"cannot read the file: {err.strerror or err}", path) from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the check
        handle.close()
        raise DataError(field, "not a regular file", path)
    return handle


def _header(stream: IO[bytes], where: str, path: Path, field: str) -> tuple[tuple[int, ...], Any]:
    """Shape and dtype from the ``.npy`` header at the start of ``stream``.

    NumPy's own messages quote the bytes it found (a file that is not NumPy at
    all, or a crafted header); these words quote nothing of the file.
    """
    try:
        version = np.lib.format.read_magic(stream)
    except ValueError:
        raise DataError(
            field, f"{where} is not a NumPy array (no NumPy .npy header)", path
        ) from None
    try:
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise DataError(
                field,
                f"{where}: NumPy format version {version[0]}.{version[1]} is not supported",
                path,
            )
    except DataError:
        raise
    except (ValueError, SyntaxError, OSError, EOFError):
        raise DataError(field, f"{where} has a damaged .npy header", path) from None
    if dtype.hasobject:
        raise DataError(field, f"{where} holds Python objects; expected numbers or text", path)
    return tuple(int(d) for d in shape), dtype


def _declared_bytes(shape: tuple[int, ...], dtype: Any) -> int:
    count = 1
    for d in shape:
        count *= d
    return count * int(dtype.itemsize)


def _check_size(declared: int, available: int, where: str, path: Path, field: str) -> None:
    """A header must not declare more than the limit, nor more than the file holds."""
    if declared > NUMPY_ARRAY_LIMIT:
        raise DataError(
            field,
            f"{where} declares {declared / 2**30:.1f} GiB; the limit is "
            f"{NUMPY_ARRAY_LIMIT // 2**30} GiB per array",
            path,
        )
    if declared > available:
        raise DataError(
            field,
            f"{where} declares {declared:,} bytes of data but holds {max(0, available):,}: "
            "the file is truncated",
            path,
        )


def _check_key(path: Path, keys: list[str], key: str, field: str) -> None:
    if key not in keys:
        held = f"{len(keys)} arrays, the first {quoted(keys[0])}" if keys else "no arrays"
        hint = near_miss(key, keys)
        raise DataError(field, f"no array {quoted(key)} in the file (it holds {held}){hint}", path)


def _npz_member(archive: zipfile.ZipFile, path: Path, key: str, field: str) -> zipfile.ZipInfo:
    keys = [n.removesuffix(".npy") for n in archive.namelist() if n.endswith(".npy")]
    _check_key(path, keys, key, field)
    return archive.getinfo(f"{key}.npy")


def _npz_shape(path: Path, key: str, field: str) -> tuple[tuple[int, ...], Any]:
    """Shape and dtype of one array of an ``.npz``, from its header alone."""
    with _open(path, "data.path") as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                info = _npz_member(archive, path, key, field)
                with archive.open(info) as member:
                    shape, dtype = _header(member, f"array {quoted(key)}", path, field)
                    available = info.file_size - member.tell()
        except DataError:
            raise  # a DataError is a ValueError too; it must not be re-labelled below
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise _bad_file("data.path", path, err) from None
    _check_size(_declared_bytes(shape, dtype), available, f"array {quoted(key)}", path, field)
    return shape, dtype


def _bad_file(field: str, path: Path, err: Exception) -> DataError:
    # zipfile's and NumPy's data errors are their own words, but may carry a
    # member name or a few bytes of the file: name the kind of failure only.
    kind = "not a zip archive" if isinstance(err, zipfile.BadZipFile) else type(err).__name__
    return DataError(field, f"not a readable NumPy file ({kind})", path)


def _load_npz(spec: NumpyData, path: Path, field: str, *, inputs: bool = True) -> list[np.ndarray]:
    """``[x, y]`` from an ``.npz`` (just ``[y]`` without ``inputs``), each checked first."""
    wanted = [(spec.x_key, "data.x_key"), (spec.y_key, "data.y_key")]
    for key, key_field in wanted[0 if inputs else 1 :]:
        _npz_shape(path, key, key_field)
    with _open(path, field) as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                arrays = []
                for key, key_field in wanted[0 if inputs else 1 :]:
                    with archive.open(_npz_member(archive, path, key, key_field)) as member:
                        arrays.append(np.lib.format.read_array(member, allow_pickle=False))
                return arrays
        except DataError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise _bad_file(field, path, err) from None


def _npy_shape(path: Path, field: str) -> tuple[tuple[int, ...], Any]:
    """Shape and dtype of a ``.npy``, from its header alone (checked against the file's size)."""
    with _open(path, field) as handle:
        shape, dtype = _header(handle, "the file", path, field)
        available = os.fstat(handle.fileno()).st_size - handle.tell()
    _check_size(_declared_bytes(shape, dtype), available, "the file", path, field)
    return shape, dtype


def _load_npy(path: Path, field: str) -> np.ndarray:
    _npy_shape(path, field)
    with _open(path, field) as handle:
        try:
            array = np.lib.format.read_array(handle, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise _bad_file(field, path, err) from None
    return array


def _files(spec: NumpyData) -> dict[str, tuple[Path, str]]:
    """The files to read by set name, each with its field, after checking the combination."""
    main_kind = _kind(spec.path, "data.path")
    if main_kind == ".npy" and spec.targets is None:
        raise DataError(
            "data.targets", "a .npy path holds inputs only; name the .npy of targets", spec.path
        )
    if main_kind == ".npz" and spec.targets is not None:
        raise DataError(
            "data.targets", "applies to a .npy path; a .npz holds its own targets (y_key)"
        )
    files = {"main": (spec.path, "data.path")}
    for name, path in (("val", spec.val_path), ("test", spec.test_path)):
        if path is not None:
            if _kind(path, f"data.{name}_path") != ".npz":
                raise DataError(
                    f"data.{name}_path",
                    "must be a .npz holding x_key and y_key (a .npy has no targets)",
                    path,
                )
            files[name] = (path, f"data.{name}_path")
    return files


def _read_targets(spec: NumpyData, path: Path, field: str) -> np.ndarray:
    """The targets of the set whose inputs are ``path``."""
    if path.suffix.lower() == ".npz":
        return _load_npz(spec, path, field, inputs=False)[0]
    assert spec.targets is not None
    return _load_npy(spec.targets, "data.targets")


def _input_shape(spec: NumpyData, path: Path, field: str) -> tuple[int, ...]:
    if path.suffix.lower() == ".npz":
        shape, dtype = _npz_shape(path, spec.x_key, "data.x_key")
    else:
        shape, dtype = _npy_shape(path, field)
    if dtype.kind not in "biuf":
        raise DataError(field, f"inputs must be numbers, got dtype {dtype}", path)
    if len(shape) == 0:
        raise DataError(field, "inputs are a single number; expected one row per sample", path)
    return tuple(int(d) for d in shape)


def _target_field(spec: NumpyData, path: Path) -> str:
    return "data.targets" if path.suffix.lower() == ".npy" else "data.y_key"


def _describe_targets(
    spec: NumpyData, targets: dict[str, np.ndarray], files: dict[str, tuple[Path, str]]
) -> tuple[Literal["classification", "regression"], ClassIndex | None, tuple[int, ...]]:
    for key, y in targets.items():
        path = files[key][0]
        if y.dtype.kind not in "biufU":
            raise DataError(
                _target_field(spec, path), f"targets must be numbers or text, got {y.dtype}", path
            )
    flat = [y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y for y in targets.values()]
    # Only one-per-sample labels can be classes; anything wider is regression.
    pooled = np.concatenate(flat) if all(f.ndim == 1 for f in flat) else flat[0]
    task = resolve_task(spec.task, pooled)
    if task == "classification":
        for (key, y), f in zip(targets.items(), flat, strict=True):
            if f.ndim != 1:
                path = files[key][0]
                raise DataError(
                    _target_field(spec, path),
                    f"class labels must be one per sample, shape (N,); got {y.shape}",
                    path,
                )
        return task, ClassIndex(*flat), ()
    for key, y in targets.items():
        if y.dtype.kind == "U":
            path = files[key][0]
            raise DataError(
                _target_field(spec, path), "regression targets must be numbers, not text", path
            )
    first = next(iter(targets.values()))
    return task, None, tuple(int(d) for d in first.shape[1:]) or (1,)


def describe(spec: NumpyData) -> DataInfo:
    """Input shape from the array headers; task and classes from the targets."""
    files = _files(spec)
    shapes = {k: _input_shape(spec, p, f) for k, (p, f) in files.items()}
    targets = {k: _read_targets(spec, p, f) for k, (p, f) in files.items()}
    for key, (path, _) in files.items():
        _check_lengths(spec, path, shapes[key][0], targets[key].shape)
    sample_shape = shapes["main"][1:] or (1,)
    for key, shape in shapes.items():
        if (shape[1:] or (1,)) != sample_shape:
            raise DataError(
                files[key][1],
                f"samples have shape {shape[1:]} but those of data.path have {sample_shape}",
                files[key][0],
            )
    task, classes, target_shape = _describe_targets(spec, targets, files)
    return DataInfo(
        input_shape=sample_shape,
        target_shape=target_shape,
        task=task,
        num_classes=len(classes) if classes is not None else None,
        class_names=classes.names if classes is not None else None,
        samples=sum(s[0] for s in shapes.values()),
    )


def _check_lengths(spec: NumpyData, path: Path, rows: int, target_shape: tuple[int, ...]) -> None:
    field = _target_field(spec, path)
    if rows == 0:
        raise DataError("data.x_key" if field == "data.y_key" else "data.path", "no samples", path)
    if len(target_shape) == 0 or target_shape[0] != rows:
        found = target_shape[0] if target_shape else "a single value"
        raise DataError(
            field, f"{rows} input samples but {found} targets; expected one target per sample", path
        )


def _check_finite(array: np.ndarray, field: str, path: Path, what: str) -> None:
    """NaN or infinite values would surface only as a NaN loss; refuse them up front."""
    finite = np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
    if not finite.all():
        raise DataError(
            field,
            f"{what} hold NaN or infinite values ({int((~finite).sum())} samples, the first "
            f"at index {int(np.argmin(finite))})",
            path,
        )


def load(spec: NumpyData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """Inputs as float32, targets as class indices or float32, split."""
    info = describe(spec)
    files = _files(spec)
    sets: dict[str, ArraySet] = {}
    targets: dict[str, np.ndarray] = {}
    for key, (path, field) in files.items():
        if path.suffix.lower() == ".npz":
            x, y = _load_npz(spec, path, field)
        else:
            x, y = _load_npy(path, field), _read_targets(spec, path, field)
        x = np.asarray(x, dtype=np.float32).reshape((x.shape[0], *info.input_shape))
        x_field = "data.x_key" if path.suffix.lower() == ".npz" else field
        _check_finite(x, x_field, path, "inputs")
        if y.dtype.kind == "f":
            _check_finite(y, _target_field(spec, path), path, "targets")
        if y.ndim == 2 and y.shape[1] == 1 and info.task == "classification":
            y = y.reshape(-1)
        targets[key] = y
        sets[key] = ArraySet(x, y)
    if info.task == "classification":
        classes = ClassIndex(*targets.values())
        sets = {k: ArraySet(s.x, classes.indices(s.y)) for k, s in sets.items()}
    else:
        sets = {
            k: ArraySet(s.x, np.asarray(s.y, dtype=np.float32).reshape(len(s), *info.target_shape))
            for k, s in sets.items()
        }
    splits = split_file_sets(sets, spec, seed, task=info.task)
    return splits, info
