"""The app's part in sweeps: open the sweep view, start a sweep process and watch it, stop one.

A mixin of `DashboardApp` (its handlers are found by their ``on_`` names):
sweeps outlive screens, as trainers do, so the app holds the processes it
started and says when each ends.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.worker import get_current_worker

from dltui.safe_text import printable
from dltui.tui.messages import (
    DirectoryChanged,
    OpenSweep,
    SweepExited,
    SweepLaunchRequest,
    SweepResumeRequest,
    SweepStopRequest,
)

if TYPE_CHECKING:
    from textual.app import App

    from dltui.tui.sweep_launch import LaunchedSweep

    _Base = App[Any]
else:
    _Base = object


class SweepSupervisor(_Base):
    """Sweep processes this dashboard started, and the messages about sweeps."""

    runs_dir: Path

    @property
    def launched_sweeps(self) -> dict[Path, LaunchedSweep]:
        """Sweep processes started here and still running, by folder."""
        found: dict[Path, LaunchedSweep] | None = getattr(self, "_launched_sweeps", None)
        if found is None:
            found = {}
            self._launched_sweeps = found
        return found

    def on_open_sweep(self, message: OpenSweep) -> None:
        """Show the sweep view."""
        from dltui.tui.screens.sweep import SweepScreen

        self.push_screen(SweepScreen(message.folder))

    def on_sweep_launch_request(self, message: SweepLaunchRequest) -> None:
        """Start the sweep on a worker, which then waits for its process to end."""
        self.run_worker(
            lambda: self._supervise_sweep(message.experiment_path, message.experiment),
            thread=True, group="launch", exit_on_error=False,
        )  # fmt: skip

    def on_sweep_resume_request(self, message: SweepResumeRequest) -> None:
        """Carry on a stopped sweep on a worker, which then waits for its process to end."""
        if any(folder.resolve() == message.folder.resolve() for folder in self.launched_sweeps):
            self.notify("That sweep is already running.", severity="warning")
            return
        self.run_worker(
            lambda: self._supervise_sweep(None, message.folder.parent.parent.name, message.folder),
            thread=True, group="launch", exit_on_error=False,
        )  # fmt: skip

    def _supervise_sweep(
        self, experiment_path: Path | None, experiment: str, folder: Path | None = None
    ) -> None:
        from dltui.tui.sweep_launch import launch_sweep, resume_sweep

        if experiment_path is not None:
            launched = launch_sweep(experiment_path, self.runs_dir, experiment)
            verb = "Started"
        else:
            assert folder is not None
            launched = resume_sweep(folder, self.runs_dir)
            verb = "Resumed"
        self.launched_sweeps[launched.folder] = launched
        self.call_from_thread(
            self.notify,
            printable(f"{verb} sweep {launched.name} of {experiment} (pid {launched.pid}); "
                      "its output: output.log in its folder.", keep_newlines=False),
            timeout=5,
        )  # fmt: skip
        self.call_from_thread(self._tell_screens, launched.folder)
        worker = get_current_worker()
        # Wait in slices: when the app quits the worker is cancelled and returns, while the
        # sweep (in its own session) keeps going.
        while not worker.is_cancelled:
            try:
                returncode = launched.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            self.post_message(SweepExited(launched.folder, returncode))
            return

    def on_sweep_exited(self, message: SweepExited) -> None:
        """Say how the sweep ended (its log has the details when it failed)."""
        self.launched_sweeps.pop(message.folder, None)
        failed = message.returncode not in (0, 130)
        text = f"Sweep {message.folder.name}: {message.outcome}."
        if failed:
            text += f"\nSee {message.folder / 'output.log'}."
        self.notify(printable(text), severity="error" if failed else "information",
                    timeout=12 if failed else 6)  # fmt: skip
        self._tell_screens(message.folder)

    def on_sweep_stop_request(self, message: SweepStopRequest) -> None:
        """Ask the sweep's workers to stop (its stop file)."""
        from dltui.tui.sweep_launch import stop_sweep

        try:
            stop_sweep(message.folder)
        except OSError as exc:
            self.notify(f"Cannot stop the sweep in {message.folder}: {exc}", severity="error")
            return
        self.notify(
            printable(f"Asked sweep {message.folder.name} to stop: its running trials save a "
                      "checkpoint and end.", keep_newlines=False), timeout=5,
        )  # fmt: skip
        self._tell_screens(message.folder)

    def _tell_screens(self, folder: Path) -> None:
        change = frozenset({folder})
        for screen in self.screen_stack:
            screen.post_message(DirectoryChanged("runs", self.runs_dir, change))
