"""Deleting a finished run's folder, and nothing that is not one.

A folder counts as a run when it holds a ``meta.json`` (the rule of
docs/run-format.md that discovery follows too), readable or not: a broken run
can be deleted like any other. A run whose writer is still at work (or holds
the run's lock) is refused. The folder is first renamed to a hidden name beside it, so it
leaves every run list at once and whole, and then removed: a removal that
fails half-way never leaves a half-deleted folder that still looks like a run.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from dltui.run_format import (
    CHECKPOINTS,
    EVENTS,
    EXPERIMENT,
    LOCK,
    META,
    OUTPUT,
    SCALARS,
    STATUS,
    STOP,
)
from dltui.runs.discovery import RunInfo, broken_run_info, read_run_info
from dltui.runs.lock import lock_holder


class RunRemovalError(Exception):
    """A run folder that was not (completely) removed; the message names the path."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        """The folder concerned."""


def run_disk_usage(run_dir: str | os.PathLike[str]) -> int:
    """Bytes the files under ``run_dir`` take on disk.

    Counts allocated blocks where the filesystem reports them (sparse files and
    tiny files count as they really are), each file once even when hard-linked
    (the trainer may link ``last.pt`` to ``best.pt``). Files that vanish while
    being counted are skipped; a missing folder is 0.
    """
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _dirs, files in os.walk(run_dir):
        for name in files:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            identity = (stat.st_dev, stat.st_ino)
            if identity in seen:
                continue
            seen.add(identity)
            blocks = getattr(stat, "st_blocks", None)
            total += blocks * 512 if blocks is not None else stat.st_size
    return total


def removable_run(run_dir: str | os.PathLike[str]) -> RunInfo:
    """The run in ``run_dir`` if it may be deleted; raises `RunRemovalError` if not.

    Refused: a path that does not exist, a symbolic link, a file, a folder
    without a ``meta.json`` (not a run), a live run (its state is ``starting`` or
    ``running`` with a fresh heartbeat: stop it first) and a run whose lock a
    process holds (a writer that is stopped or hung still owns it). A run whose
    files cannot be read is returned as broken: it may be deleted.
    """
    folder = Path(run_dir)
    if folder.is_symlink():
        raise RunRemovalError(folder, "is a symbolic link, not a run folder; not removed")
    if not folder.exists():
        raise RunRemovalError(folder, "no such folder")
    if not folder.is_dir():
        raise RunRemovalError(folder, "is a file, not a run folder; not removed")
    meta = folder / META
    if meta.is_symlink() or not meta.is_file():
        raise RunRemovalError(folder, f"not a run folder (it has no {META}); not removed")
    try:
        run = read_run_info(folder)
    except (OSError, ValueError) as error:
        # Broken, but deletable when nothing in it is anything but a run's own files.
        foreign = _foreign_entries(folder)
        if foreign:
            raise RunRemovalError(
                folder,
                f"not a readable run folder ({error}) and it holds "
                f"{', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''}, "
                "which no run writes; not removed",
            ) from None
        run = broken_run_info(folder, str(error))
    if run.alive:
        status = run.status
        age = f", last heartbeat {status.age:.0f} s ago" if status.age is not None else ""
        pid = f", pid {status.pid}" if status.pid is not None else ""
        raise RunRemovalError(
            folder, f"run {run.run_id} is {run.state}{age}{pid}; stop it before deleting it"
        )
    holder = lock_holder(folder)
    if holder is not None:
        raise RunRemovalError(
            folder, f"run {run.run_id} is being written by {holder.describe()}; stop it first"
        )
    return run


_RUN_ENTRIES = frozenset(
    {META, EXPERIMENT, EVENTS, SCALARS, STATUS, OUTPUT, STOP, LOCK, CHECKPOINTS}
)


def _foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that are not a run's own (its files, hidden temporaries)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [name for name in names if name not in _RUN_ENTRIES and not name.startswith(".")]


def remove_run(run_dir: str | os.PathLike[str]) -> int:
    """Delete the run folder ``run_dir``; returns the bytes it took on disk.

    Checks with `removable_run` first. The parent (the experiment's folder of
    runs) stays even when this was its last run. Raises `RunRemovalError`
    naming the path when the folder is refused or cannot be removed.
    """
    folder = Path(run_dir)
    removable_run(folder)
    size = run_disk_usage(folder)
    doomed = folder.with_name(f".deleting-{folder.name}-{secrets.token_hex(3)}")
    try:
        folder.rename(doomed)
    except OSError as error:
        raise RunRemovalError(folder, f"cannot remove: {error.strerror or error}") from None
    try:
        shutil.rmtree(doomed)
    except OSError as error:
        raise RunRemovalError(
            folder,
            f"left the run list, but not everything could be deleted ({error}); "
            f"what is left is in {doomed}",
        ) from None
    return size
