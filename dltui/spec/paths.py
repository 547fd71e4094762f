"""Paths in an experiment file: resolved against the file's folder, and checked.

A data path or an ``init_from`` path must be a regular file or a folder, as the
setting needs. Anything else is refused here, in the schema, so that
`dltui check`, the builder and `dltui run` all say so before anything opens it:
a FIFO blocks ``open()`` (the trainer would hang where SIGTERM cannot end it),
and a device such as ``/dev/zero`` never ends. Checking uses ``stat``, which
never blocks. The loaders check again when they open the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

from pydantic import ValidationInfo

Wanted = Literal["file", "folder", "file or folder"]

_EXPECTED = {
    "file": "a regular file",
    "folder": "a folder",
    "file or folder": "a regular file or a folder",
}
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def resolve_path(value: Path | None, info: ValidationInfo) -> Path | None:
    """``value`` with ``~`` expanded, relative to the context's ``base_dir``."""
    if value is None:
        return None
    base = (info.context or {}).get("base_dir")
    path = value.expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


def checks_files(info: ValidationInfo) -> bool:
    """Whether this validation looks at the disk (the builder's drafts may not)."""
    return not (info.context or {}).get("skip_file_checks")


def path_problem(path: Path, wanted: Wanted) -> str | None:
    """Why ``path`` is not the ``wanted`` kind of thing, or None when it is."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"no such {wanted}: {path}"
    except NotADirectoryError:
        return f"no such {wanted}: {path} (a part of it is a file)"
    except OSError as error:
        return f"cannot look at {path}: {error.strerror or error}"
    mode = info.st_mode
    if stat.S_ISREG(mode):
        kind = "a file"
        if wanted != "folder":
            return None
    elif stat.S_ISDIR(mode):
        kind = "a folder"
        if wanted != "file":
            return None
    else:
        kind = next((name for test, name in _KINDS if test(mode)), "not a file or folder")
    return f"{path} is {kind}; expected {_EXPECTED[wanted]}"
