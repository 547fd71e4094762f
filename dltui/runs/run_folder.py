"""A run folder made ready for its writer: a new one, or an existing one to append to.

A new run gets a folder of its own (a fresh run id; never one that holds a run)
and its meta.json. An existing one (`RunWriter.open`, a resume) may have been
left by a killed writer with a torn last line or a partial record: they are
cut; the resume event then names how many records came before it and the step
it continues from, and the new writer reuses the tags the run declared.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dltui.bounded import loads_json
from dltui.run_format import EVENTS, FORMAT_VERSION, META, SCALARS
from dltui.runs.control import is_pid_alive, this_host
from dltui.runs.files import (
    CLOEXEC,
    NOFOLLOW,
    read_json,
    refuse_linked_files,
    remove_stale_temporaries,
)
from dltui.runs.layout import MAX_TAGS, RECORD_DTYPE, RECORD_SIZE, new_run_id
from dltui.runs.lines import iter_lines


def _open_existing(path: Path) -> int | None:
    """``path`` opened for reading and writing without following a link; None if missing."""
    try:
        return os.open(path, os.O_RDWR | CLOEXEC | NOFOLLOW)
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Reopened:
    """An existing run, mended and read for a writer to append to it."""

    meta: dict[str, Any]
    tags: dict[str, int]
    """The tags it declared, by name: their ids stay theirs."""
    records: int
    """Whole records in scalars.bin: where this writer's records begin."""
    step: int | None
    """The step the writer continues from: the one asked for, else the largest recorded
    (None without records)."""


def reopen(folder: Path, step: int | None) -> Reopened:
    """Mend the run in ``folder`` for appending (its lock held by the caller).

    Refuses a run whose files are links, cuts a torn last line or partial
    record left by a killed writer and removes its temporary files (a checkpoint
    half written when it was killed). ``step``: where the writer continues (None:
    after the last step recorded). Raises ValueError for a newer format or an
    unreadable meta.json (`~dltui.runs.files.RunFileError` for links).
    """
    meta_path = folder / META
    refuse_linked_files(folder)
    meta = read_json(meta_path)
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: expected a JSON object")
    version = meta.get("format")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: format {version!r} is not one this dltui can append to "
            f"(it writes format {FORMAT_VERSION})"
        )
    cut_torn_tail(folder / EVENTS, folder / SCALARS)
    remove_stale_temporaries(folder, is_pid_alive)
    return Reopened(
        meta=meta,
        tags=declared_tags(folder / EVENTS),
        records=record_count(folder / SCALARS),
        step=step if step is not None else last_step(folder / SCALARS),
    )


def cut_torn_tail(events: Path, scalars: Path) -> None:
    """Cut a torn last line off ``events`` and a partial last record off ``scalars``.

    A killed writer can leave half a line or half a record; appending after it
    would corrupt the next entry, so it goes (readers never consumed it).
    """
    fd = _open_existing(events)
    if fd is not None:
        with os.fdopen(fd, "r+b") as handle:
            end = size = handle.seek(0, os.SEEK_END)
            # Walk back block by block to the last newline (lines can be long).
            while end > 0:
                start = max(0, end - (1 << 16))
                handle.seek(start)
                block = handle.read(end - start)
                if end == size and block.endswith(b"\n"):
                    break  # nothing torn
                cut = block.rfind(b"\n")
                if cut >= 0:
                    handle.truncate(start + cut + 1)
                    break
                end = start
            else:
                handle.truncate(0)  # a single torn line and nothing before it
    fd = _open_existing(scalars)
    if fd is not None:
        try:
            size = os.fstat(fd).st_size
            if size % RECORD_SIZE:
                os.ftruncate(fd, size - size % RECORD_SIZE)
        finally:
            os.close(fd)


def record_count(scalars: Path) -> int:
    """How many whole records scalars.bin holds (what a resume's readers count up to)."""
    try:
        return os.lstat(scalars).st_size // RECORD_SIZE
    except FileNotFoundError:
        return 0


def last_step(scalars: Path, chunk: int = 1 << 18) -> int | None:
    """The largest step in scalars.bin (None without records), read in bounded chunks."""
    fd = _open_existing(scalars)
    if fd is None:
        return None
    last: int | None = None
    with os.fdopen(fd, "rb") as handle:
        while True:
            data = handle.read(chunk * RECORD_SIZE)
            count = len(data) // RECORD_SIZE
            if not count:
                return last
            top = int(np.frombuffer(data, RECORD_DTYPE, count)["step"].max())
            last = top if last is None else max(last, top)


def declared_tags(events: Path) -> dict[str, int]:
    """Tag name -> id of every ``tag`` event in ``events`` (a resumed writer reuses them)."""
    tags: dict[str, int] = {}
    if not os.path.lexists(events):
        return tags
    for line in iter_lines(events):
        if b'"tag"' not in line:
            continue
        try:
            event = loads_json(line, source=str(events), max_depth=None)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("kind") == "tag":
            tag_id, name = event.get("id"), event.get("name")
            if (
                isinstance(tag_id, int)
                and not isinstance(tag_id, bool)
                and isinstance(name, str)
                and 0 <= tag_id < MAX_TAGS
            ):
                tags[name] = tag_id
    # New tags get ids after every id in use, even if the log skipped some.
    return tags


def refuse_existing_run(folder: Path) -> None:
    """Refuse a folder that holds a run already (a new run must not write into it)."""
    if os.path.lexists(folder / META):
        raise FileExistsError(
            f"{folder} already holds a run (it has {META}); use RunWriter.open() to append to it"
        )


def fresh_folder(parent: Path) -> Path:
    """A new folder under ``parent`` named by a fresh run id (`new_run_id`)."""
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        folder = parent / new_run_id()
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{parent}: could not find a free run id")


def versions() -> dict[str, str | None]:
    """dltui's, torch's (without importing it) and Python's versions, for meta.json."""
    from dltui import __version__

    torch_module = sys.modules.get("torch")
    torch_version: str | None
    if torch_module is not None:
        torch_version = str(getattr(torch_module, "__version__", None))
    else:
        try:
            torch_version = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            torch_version = None
    return {"dltui": __version__, "torch": torch_version, "python": platform.python_version()}


def new_meta(
    run_id: str,
    experiment: str,
    *,
    source: str | os.PathLike[str] | None,
    device: str | None,
    config: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """meta.json of a new run: what it is, where it ran, what it was made from."""
    return {
        "format": FORMAT_VERSION,
        "run_id": run_id,
        "experiment": experiment,
        "created": time.time(),
        "host": this_host(),
        "pid": os.getpid(),
        "argv": list(sys.argv),
        "source": None if source is None else os.fspath(Path(source).resolve()),
        "device": device,
        "versions": versions(),
        "config": dict(config) if config is not None else {},
    }
