"""Opening, reading and replacing a run's files safely.

A run folder may have been copied from elsewhere, written by another program or
tampered with, and the disk under it may fill up. So every file a writer opens is
opened without following symbolic links (a ``scalars.bin`` linked to a file outside
the run must not be truncated and appended to), JSON files are read within limits
(`dltui.bounded`), replacements go through a temporary file that never survives a
failure, and a failed write becomes one `RunWriteError` that says in plain words
what could not be written ("no space left on device writing checkpoints/last.pt").
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dltui.bounded import loads_json, read_bytes_limited
from dltui.run_format import (
    BEST_CHECKPOINT,
    BEST_CHECKPOINT_PATH,
    CHECKPOINTS,
    EVENTS,
    EXPERIMENT,
    LAST_CHECKPOINT,
    LAST_CHECKPOINT_PATH,
    LOCK,
    META,
    OUTPUT,
    SCALARS,
    STATUS,
    STOP,
)
from dltui.runs.layout import json_default

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)

LINKED_FILES_REFUSED = (
    META,
    EXPERIMENT,
    EVENTS,
    SCALARS,
    STATUS,
    OUTPUT,
    STOP,
    LOCK,
    CHECKPOINTS,
    LAST_CHECKPOINT_PATH,
    BEST_CHECKPOINT_PATH,
)
"""The entries of a run folder that a writer refuses to find as symbolic links."""

_PLAIN_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ELOOP: "is a symbolic link",
}


class RunWriteError(OSError):
    """A run file could not be written; ``str()`` is one plain line naming the file.

    Keeps the ``errno`` of the failure (``errno.ENOSPC`` for a full disk) and the
    run-relative ``name`` of the file (``checkpoints/last.pt``).
    """

    def __init__(self, code: int | None, message: str, name: str) -> None:
        super().__init__(code, message)
        self.name = name
        """The file, relative to the run folder."""

    def __str__(self) -> str:
        """The message alone, without ``[Errno 28]``."""
        return str(self.strerror)


class RunFileError(ValueError):
    """A run folder that a writer refuses to touch (e.g. its files are symbolic links)."""


def display_name(path: Path) -> str:
    """``path`` as a person knows it in a run: ``checkpoints/last.pt``, ``events.jsonl``."""
    if path.parent.name == CHECKPOINTS:
        return f"{CHECKPOINTS}/{path.name}"
    return path.name


def write_error(error: OSError, path: Path) -> RunWriteError:
    """``error`` (met writing ``path``) as a `RunWriteError` with a plain message."""
    if isinstance(error, RunWriteError):
        return error
    name = display_name(path)
    code = error.errno
    reason = _PLAIN_REASONS.get(code) if code is not None else None
    if reason is None:
        reason = (error.strerror or str(error) or type(error).__name__).lower()
    return RunWriteError(code, f"{reason} writing {name}", name)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the user's quota) is full."""
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def open_for_append(path: Path) -> int:
    """A file descriptor appending to ``path`` (created if missing), never through a link.

    Raises `RunFileError` when ``path`` is a symbolic link, `RunWriteError` otherwise.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | CLOEXEC | NOFOLLOW
    try:
        return os.open(path, flags, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RunFileError(
                f"{path}: is a symbolic link; a run's files must be its own"
            ) from None
        raise write_error(error, path) from None


def linked_files(run_dir: Path) -> list[str]:
    """The entries of `LINKED_FILES_REFUSED` that are symbolic links in ``run_dir``."""
    found = []
    for name in LINKED_FILES_REFUSED:
        if os.path.islink(os.path.join(run_dir, name)):
            found.append(name)
    return found


def refuse_linked_files(run_dir: Path) -> None:
    """Raise `RunFileError` when any of the run's own files is a symbolic link.

    A writer appends to, truncates and replaces these files: through a link it would
    do that to whatever file the link points at, outside the run.
    """
    found = linked_files(run_dir)
    if found:
        raise RunFileError(f"{run_dir}: {describe_links(found)}; refusing to write into it")


def describe_links(names: list[str]) -> str:
    """``scalars.bin is a symbolic link`` / ``a, b are symbolic links``."""
    verb = "is a symbolic link" if len(names) == 1 else "are symbolic links"
    return f"{', '.join(names)} {verb} (a run's files must be its own)"


def temp_path(path: Path) -> Path:
    """The temporary name ``path`` is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


_TEMPORARY = re.compile(r"^\.(.+)\.(\d+)\.tmp$")
_WRITERS_FILES = frozenset({META, STATUS, EXPERIMENT, LAST_CHECKPOINT, BEST_CHECKPOINT})
"""Files only a run's writer replaces (a dashboard's stop request is not one of them)."""


def remove_stale_temporaries(run_dir: Path, alive: Callable[[int], bool]) -> list[str]:
    """Remove the temporary files of writers that died mid-write; returns their names.

    ``.<name>.<pid>.tmp`` of the files only a writer replaces, in the run folder and
    ``checkpoints/``, whose ``pid`` is not ``alive`` (a ``kill -9`` during a checkpoint
    write leaves one behind). Called by a writer holding the run's lock, so no live
    writer of this run owns one.
    """
    removed = []
    for folder in (run_dir, run_dir / CHECKPOINTS):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _TEMPORARY.match(name)
            if match is None or match.group(1) not in _WRITERS_FILES:
                continue
            if alive(int(match.group(2))):
                continue
            path = folder / name
            with contextlib.suppress(OSError):
                if not os.path.isdir(path) or os.path.islink(path):
                    os.unlink(path)
                    removed.append(display_name(path))
    return removed


def open_temp(path: Path) -> tuple[Path, int]:
    """Create ``path``'s temporary file afresh (never through a link); (its path, its fd)."""
    tmp = temp_path(path)
    try:
        # A leftover of a killed process with the same pid, or a planted link: away with it.
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise write_error(error, path) from None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | CLOEXEC | NOFOLLOW, 0o644)
    except OSError as error:
        raise write_error(error, path) from None
    return tmp, fd


def discard(tmp: Path) -> None:
    """Remove a temporary file if it is there (after a failed write)."""
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write only part)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers never see half a file.

    The temporary file is removed when anything fails (a full disk); the error is a
    `RunWriteError` naming ``path``. A link at ``path`` is replaced, never followed.
    """
    tmp, fd = open_temp(path)
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as error:
        discard(tmp)
        raise write_error(error, path) from None
    except BaseException:
        discard(tmp)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """`write_atomic` of ``obj`` as indented JSON (numpy values, tensors and paths converted)."""
    text = json.dumps(obj, indent=1, ensure_ascii=False, default=json_default) + "\n"
    write_atomic(path, text.encode("utf-8"))


def read_json(path: Path) -> Any:
    """Parse the JSON file at ``path`` within limits; raises OSError or ValueError naming it.

    Too large, too deeply nested, not a regular file or not JSON: a ``ValueError``
    (`dltui.bounded.FileLimitError` or a message with the path), never a RecursionError.
    """
    data = read_bytes_limited(path)
    try:
        return loads_json(data, source=str(path))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
