"""Messages that carry events up to the app: from screens, watchers, followers and workers.

Threads never touch widgets: they post one of these. "Latest state" messages
define ``can_replace`` so that a burst of them collapses into the newest one
while it waits in the queue.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.message import Message

from dltui.run_format import EXIT_OUTCOMES


class LaunchRequest(Message):
    """Start a run of the experiment file at ``experiment_path`` (posted by the builder too)."""

    def __init__(self, experiment_path: Path) -> None:
        super().__init__()
        self.experiment_path = Path(experiment_path)


class StopRequest(Message):
    """Ask the run in ``run_dir`` to stop."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)


class ResumeRequest(Message):
    """Resume the run in ``run_dir`` from its last checkpoint."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)


class OpenRun(Message):
    """Show the run in ``run_dir`` in the run view."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)


class RunRead(Message):
    """The history of the run in ``run_dir`` has been read: ``reader`` holds it."""

    def __init__(self, run_dir: Path, reader: Any) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.reader = reader


class CompareRuns(Message):
    """Overlay the curves of ``run_dirs`` in the compare view."""

    def __init__(self, run_dirs: list[Path]) -> None:
        super().__init__()
        self.run_dirs = [Path(p) for p in run_dirs]


class RunLaunched(Message):
    """A trainer process started: ``pid`` writes into ``run_dir`` (``resumed``: an old run)."""

    def __init__(
        self, run_dir: Path, pid: int, experiment_path: Path, *, resumed: bool = False
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.pid = pid
        self.experiment_path = Path(experiment_path)
        self.resumed = resumed

    @property
    def experiment(self) -> str:
        """The experiment's name: the folder the run lives in (``runs/<experiment>/<id>``)."""
        return self.run_dir.parent.name


class RunExited(Message):
    """A trainer process this dashboard launched has exited with ``returncode``."""

    def __init__(self, run_dir: Path, returncode: int, reason: str | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.returncode = returncode
        self.reason = reason
        """Why it ended, from the run's status.json (None when it says nothing)."""

    @property
    def experiment_name(self) -> str:
        """The experiment's name: the folder the run lives in."""
        return self.run_dir.parent.name

    @property
    def outcome(self) -> str:
        """The exit code in words (the trainer's documented codes)."""
        return EXIT_OUTCOMES.get(self.returncode, f"exited with code {self.returncode}")


class RunUpdated(Message):
    """New records arrived in the followed run; the latest one replaces any queued one."""

    def __init__(self, run_dir: Path, changes: Any = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.changes = changes

    def can_replace(self, message: Message) -> bool:
        """This (older) update folds into a newer one for the same run, if one is queued.

        The newer message takes over what this one reported changed, so a pane
        that only redraws on its own tags never misses an update.
        """
        if isinstance(message, RunUpdated) and message.run_dir == self.run_dir:
            message.changes = merge_changes(self.changes, message.changes)
            return True
        return False


def merge_changes(older: Any, newer: Any) -> Any:
    """Combine two `RunChanges`-like dataclasses: sets unite, counts add, flags or."""
    if older is None or not dataclasses.is_dataclass(newer) or isinstance(newer, type):
        return newer
    merged = dataclasses.replace(newer)
    for item in dataclasses.fields(newer):
        old, new = getattr(older, item.name, None), getattr(newer, item.name)
        if isinstance(new, set) and isinstance(old, set):
            value: Any = old | new
        elif isinstance(new, bool) and isinstance(old, bool):
            value = old or new
        elif isinstance(new, int) and isinstance(old, int):
            value = old + new
        else:
            value = new
        setattr(merged, item.name, value)
    return merged


class DirectoryChanged(Message, bubble=False):
    """Something changed under a watched folder (``kind``: experiments, runs or themes).

    It does not bubble: the app hands it to every screen, and a copy bubbling back
    up to the app would be handed out again, round and round.
    """

    def __init__(self, kind: str, root: Path, paths: frozenset[Path] = frozenset()) -> None:
        super().__init__()
        self.kind = kind
        self.root = Path(root)
        self.paths = paths

    def can_replace(self, message: Message) -> bool:
        """Fold this (older) change into a newer queued one for the same folder."""
        if isinstance(message, DirectoryChanged) and message.kind == self.kind:
            message.paths = message.paths | self.paths
            return True
        return False


class ThemesChecked(Message):
    """Theme files were read and checked (reading number ``generation``).

    ``loaded`` (`dltui.tui.themes.LoadedThemes`) holds the themes that passed and
    every problem; ``textual_ok`` names Textual's own themes that passed the check.
    """

    def __init__(self, generation: int, loaded: Any, textual_ok: list[str]) -> None:
        super().__init__()
        self.generation = generation
        self.loaded = loaded
        self.textual_ok = textual_ok
