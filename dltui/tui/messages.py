"""Messages that carry events up to the app: from screens, watchers, followers and workers.

Threads never touch widgets: they post one of these. "Latest state" messages
define ``can_replace`` so that a burst of them collapses into the newest one
while it waits in the queue.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.message import Message

from dltui.run_format import EXIT_OUTCOMES

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.themes import LoadedThemes

WatchedFolder = Literal["experiments", "runs", "themes", "logs"]
"""The folders the app watches (`dltui.tui.watch.DirectoryWatcher`'s roots)."""


@dataclass
class LaunchRequest(Message):
    """Start a run of the experiment file at ``experiment_path`` (posted by the builder too)."""

    experiment_path: Path


@dataclass
class StopRequest(Message):
    """Ask the run in ``run_dir`` to stop."""

    run_dir: Path


@dataclass
class ResumeRequest(Message):
    """Resume the run in ``run_dir`` from its last checkpoint."""

    run_dir: Path


@dataclass
class OpenRun(Message):
    """Show the run in ``run_dir`` in the run view."""

    run_dir: Path


@dataclass
class RunRead(Message):
    """The history of the run in ``run_dir`` has been read: ``reader`` holds it."""

    run_dir: Path
    reader: RunSource


@dataclass
class CompareRuns(Message):
    """Overlay the curves of ``run_dirs`` in the compare view."""

    run_dirs: list[Path]


@dataclass
class OpenSweep(Message):
    """Show the sweep whose folder is ``folder`` in the sweep view."""

    folder: Path


@dataclass
class SweepLaunchRequest(Message):
    """Start a sweep of the experiment file ``experiment_path`` (runs under ``experiment``)."""

    experiment_path: Path
    experiment: str


@dataclass
class SweepResumeRequest(Message):
    """Carry on the sweep whose folder is ``folder`` (`dltui sweep --resume`)."""

    folder: Path


@dataclass
class SweepStopRequest(Message):
    """Ask the sweep whose folder is ``folder`` to stop."""

    folder: Path


@dataclass
class SweepExited(Message):
    """A sweep process this dashboard launched has exited with ``returncode``."""

    folder: Path
    returncode: int

    @property
    def outcome(self) -> str:
        """The exit code in words (`dltui sweep`'s documented codes)."""
        words = {0: "finished", 1: "every trial failed", 2: "refused: invalid file or sweep",
                 130: "stopped"}  # fmt: skip
        return words.get(self.returncode, f"exited with code {self.returncode}")


@dataclass
class RunLaunched(Message):
    """A trainer process started: ``pid`` writes into ``run_dir`` (``resumed``: an old run)."""

    run_dir: Path
    pid: int
    experiment_path: Path
    resumed: bool = dataclasses.field(default=False, kw_only=True)

    @property
    def experiment(self) -> str:
        """The experiment's name: the folder the run lives in (``runs/<experiment>/<id>``)."""
        return self.run_dir.parent.name


@dataclass
class RunBusy(Message):
    """A resume was not started: ``holder`` (``pid 4242 on gpu-01 (since …)``) writes the run."""

    run_dir: Path
    holder: str


@dataclass
class RunExited(Message):
    """A trainer process this dashboard launched has exited with ``returncode``."""

    run_dir: Path
    returncode: int
    reason: str | None = None
    """Why it ended, from the run's status.json (None when it says nothing)."""

    @property
    def experiment_name(self) -> str:
        """The experiment's name: the folder the run lives in."""
        return self.run_dir.parent.name

    @property
    def outcome(self) -> str:
        """The exit code in words (the trainer's documented codes)."""
        return EXIT_OUTCOMES.get(self.returncode, f"exited with code {self.returncode}")


@dataclass
class RunUpdated(Message):
    """New records arrived in the followed run; the latest one replaces any queued one."""

    run_dir: Path
    changes: RunChanges | None = None
    """What the poll found (None: unknown, so everything may have changed)."""

    def can_replace(self, message: Message) -> bool:
        """This (older) update folds into a newer one for the same run, if one is queued.

        The newer message takes over what this one reported changed, so a pane
        that only redraws on its own tags never misses an update.
        """
        if isinstance(message, RunUpdated) and message.run_dir == self.run_dir:
            message.changes = merge_changes(self.changes, message.changes)
            return True
        return False


def merge_changes(older: RunChanges | None, newer: RunChanges | None) -> RunChanges | None:
    """What two polls found together: sets unite, counts add, flags or.

    None (unknown) on either side stays unknown: everything may have changed.
    """
    if older is None or newer is None:
        return None
    merged = dataclasses.replace(newer)
    for item in dataclasses.fields(newer):
        old, new = getattr(older, item.name), getattr(newer, item.name)
        if isinstance(new, set):
            value: object = old | new
        elif isinstance(new, bool):
            value = old or new
        elif isinstance(new, int):
            value = old + new
        else:
            value = new
        setattr(merged, item.name, value)
    return merged


@dataclass
class DirectoryChanged(Message, bubble=False):
    """Something changed under a watched folder (``kind``: experiments, runs, themes, or
    ``logs``: one of the folders of other tools' logs).

    It does not bubble: the app hands it to every screen, and a copy bubbling back
    up to the app would be handed out again, round and round.
    """

    kind: WatchedFolder
    root: Path
    paths: frozenset[Path] = frozenset()

    def can_replace(self, message: Message) -> bool:
        """Fold this (older) change into a newer queued one for the same folder."""
        if isinstance(message, DirectoryChanged) and message.kind == self.kind:
            message.paths = message.paths | self.paths
            return True
        return False


@dataclass
class ThemesChecked(Message):
    """Theme files were read and checked (reading number ``generation``).

    ``loaded`` holds the themes that passed and every problem; ``textual_ok``
    names Textual's own themes that passed the check.
    """

    generation: int
    loaded: LoadedThemes
    textual_ok: list[str]

    def can_replace(self, message: Message) -> bool:
        """An older check is pointless once a newer one is queued (only the newest applies)."""
        return isinstance(message, ThemesChecked) and message.generation > self.generation
