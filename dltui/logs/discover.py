"""Find the runs other tools logged under some folders.

- a folder holding ``*tfevents*`` files is one TensorBoard run (torch's and
  tensorboardX's SummaryWriter, Lightning's TensorBoardLogger, Keras' TensorBoard);
- a folder holding ``metrics.csv`` is a Lightning CSVLogger run (its
  ``hparams.yaml``, if any, is the config);
- a ``.csv`` or ``.log`` file whose header starts with ``epoch`` is a Keras
  CSVLogger run.

The walk never follows a link into a folder it has already seen (a symlink loop
is reported and skipped), skips what it cannot enter with a note, stops at a
depth and an entry count, and never enters dltui's own run folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dltui.logs.csv_log import looks_like_keras_log
from dltui.logs.sources import KERAS_CSV, LIGHTNING_CSV, TENSORBOARD
from dltui.logs.tensorboard import is_event_file

__all__ = ["KERAS_CSV", "LIGHTNING_CSV", "TENSORBOARD", "Discovered", "LogRun", "discover_logs"]

MAX_DEPTH = 12
MAX_ENTRIES = 200_000


@dataclass(frozen=True)
class LogRun:
    """A run another tool logged: its ``source`` kind and where it is.

    ``path`` is the run's folder (TensorBoard, Lightning) or file (Keras);
    ``experiment`` and ``run`` name it in the browser: the run is the folder (or
    file) name, the experiment the path from the log folder to it.
    """

    source: str
    path: Path
    root: Path
    experiment: str
    run: str


@dataclass
class Discovered:
    """The runs found, and what could not be looked at (one line each)."""

    runs: list[LogRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _names(root: Path, path: Path) -> tuple[str, str]:
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = Path(path.name)
    parts = relative.parts
    if not parts:  # the log folder itself is the run
        return root.name or str(root), "."
    parent = "/".join(parts[:-1])
    return (f"{root.name}/{parent}" if parent else root.name or str(root)), parts[-1]


def discover_logs(roots: list[str | os.PathLike[str]]) -> Discovered:
    """Every TensorBoard and CSV run under each folder of ``roots``."""
    found = Discovered()
    seen: set[tuple[int, int]] = set()
    entries = 0
    for given in roots:
        root = Path(given)
        stack: list[tuple[Path, int]] = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                info = folder.stat()
            except OSError as exc:
                found.problems.append(f"{folder}: cannot be read ({exc.strerror or exc})")
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen:
                if folder.is_symlink():
                    found.problems.append(f"{folder}: a link back into a folder already seen")
                continue
            seen.add(key)
            try:
                with os.scandir(folder) as listing:
                    children = list(listing)
            except OSError as exc:
                found.problems.append(f"{folder}: cannot be listed ({exc.strerror or exc})")
                continue
            entries += len(children)
            names = {child.name for child in children}
            if "meta.json" in names and "events.jsonl" in names:
                continue  # one of dltui's own runs: the run browser has it already
            if any(
                is_event_file(name) and _is_file(child)
                for name, child in ((c.name, c) for c in children)
            ):
                found.runs.append(LogRun(TENSORBOARD, folder, root, *_names(root, folder)))
            if "metrics.csv" in names:
                found.runs.append(LogRun(LIGHTNING_CSV, folder, root, *_names(root, folder)))
            for child in children:
                if child.name.endswith((".csv", ".log")) and child.name != "metrics.csv":
                    path = Path(child.path)
                    if _is_file(child) and looks_like_keras_log(path):
                        found.runs.append(LogRun(KERAS_CSV, path, root, *_names(root, path)))
            if depth >= MAX_DEPTH:
                continue
            if entries > MAX_ENTRIES:
                found.problems.append(
                    f"{root}: more than {MAX_ENTRIES:,} entries; stopped looking below {folder}"
                )
                break
            for child in sorted(children, key=lambda c: c.name, reverse=True):
                if _is_dir(child):
                    stack.append((Path(child.path), depth + 1))
    found.runs.sort(key=lambda r: (str(r.root), r.experiment, r.run, r.source))
    return found


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
