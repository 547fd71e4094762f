"""The dashboard: the Textual app that `dltui` (no sub-command) starts.

Start-up imports only Textual and this package's light modules, so the first
screen paints in well under half a second; the experiment schema, the run
reader (numpy) and the panes are imported by workers and screens when needed.
The app owns what outlives a screen: themes, the folder watcher, and the
trainer processes it launched.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.worker import get_current_worker

from dltui.run_format import EXIT_FINISHED, EXIT_INTERRUPTED
from dltui.safe_text import printable
from dltui.tui.commands import APP
from dltui.tui.messages import (
    CompareRuns,
    DirectoryChanged,
    LaunchRequest,
    OpenRun,
    ResumeRequest,
    RunBusy,
    RunExited,
    RunLaunched,
    RunRead,
    StopRequest,
    WatchedFolder,
)
from dltui.tui.palette import DashboardCommands
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.sweep_supervisor import SweepSupervisor
from dltui.tui.themed_app import ThemedApp
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.timer import Timer

    from dltui.tui.keymap import KeymapProblem
    from dltui.tui.launcher import LaunchedRun
    from dltui.tui.watch import DirectoryWatcher


class DashboardApp(ReportsWorkerErrors, SweepSupervisor, ThemedApp):
    """Browse experiments and runs, launch and stop training, and watch runs live."""

    TITLE = "dltui"
    CSS_PATH: ClassVar = ["app.tcss", "screens/browser.tcss"]
    COMMANDS: ClassVar = {DashboardCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    SCOPE = APP
    BINDINGS: ClassVar = APP.bindings()

    def __init__(
        self,
        experiments: Path | str = "experiments",
        runs: Path | str = "runs",
        themes: Path | str = "themes",
        *,
        poll: bool = False,
        watch: bool = True,
        clock: Callable[[], float] = time.time,
        follow_interval: float = 0.1,
        exit_after_paint: bool = False,
        layer_tables: bool = True,
        keymap: Path | str | None = None,
        logdirs: Sequence[Path | str] = (),
        settings_problems: Sequence[str] = (),
    ) -> None:
        """Folders are taken relative to the working directory.

        ``watch=False`` turns the folder watcher off (tests drive refreshes by
        hand); ``clock`` gives "now" for ages (tests freeze it);
        ``exit_after_paint`` quits right after the first screen is painted (the
        start-up benchmark); ``layer_tables=False`` skips the browser's model check
        of each experiment (its layer tables and the model problems `dltui check`
        finds; it imports torch on a worker, seconds on a busy machine), leaving
        the schema's verdict alone. ``keymap`` is the user's key-remap file (see
        `dltui.tui.keymap`); None remaps nothing. ``logdirs`` are folders of other
        tools' logs (TensorBoard, CSV) listed beside the runs; ``settings_problems``
        what was wrong with the settings file, told after the first paint.
        """
        super().__init__(Path(themes))
        self.experiments_dir = Path(experiments)
        self.runs_dir = Path(runs)
        self.poll = poll
        self.watch_files = watch
        self.clock = clock
        self.follow_interval = follow_interval
        self.exit_after_paint = exit_after_paint
        self.layer_tables = layer_tables
        self.launched: dict[Path, LaunchedRun] = {}
        """Trainer processes started by this dashboard, by run directory."""
        self._watcher: DirectoryWatcher | None = None
        self._reading_notice: Timer | None = None
        self.first_paint_time: float | None = None
        """When the first screen was painted (unix seconds)."""
        self.logdirs = [Path(folder) for folder in logdirs]
        """Folders of other tools' logs, shown beside the runs (``--logdir``, settings)."""
        self.settings_problems = list(settings_problems)
        self.keymap_path = Path(keymap) if keymap is not None else None
        self._keymap_problems: list[KeymapProblem] = []
        if self.keymap_path is not None:
            self.load_keymap_file(self.keymap_path)

    # -- notifications ----------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a notification; its text is always shown as text.

        Notifications carry file names, errors and reasons from files others wrote:
        control characters are made visible (`printable`) and nothing is read as
        markup, whoever calls this (``markup`` is accepted and ignored).
        """
        super().notify(
            printable(str(message)),
            title=printable(str(title), keep_newlines=False),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # -- start and stop -------------------------------------------------------------------

    def on_mount(self) -> None:
        """Show the browser."""
        self.push_screen(BrowserScreen(self.experiments_dir, self.runs_dir))

    @on(BrowserScreen.Painted)
    def _first_painted(self, message: BrowserScreen.Painted) -> None:
        if self.first_paint_time is not None:
            return
        self.first_paint_time = message.time
        if self.exit_after_paint:
            self.exit(0)
            return
        self.call_later(self._load_other_screens_css)
        self.reload_themes()
        if self.keymap_path is not None:
            self._report_keymap_problems(self.keymap_path)
        if self.settings_problems:
            self.notify("\n".join(self.settings_problems), title="Settings problems",
                        severity="error", timeout=12)  # fmt: skip
        self.call_later(_freeze_startup_objects)
        if self.watch_files:
            # Watchdog (and its observer thread) cost start-up time: begin after the first paint.
            self.start_watching()
            # The browser began listing the folders as it painted, before the watcher ran:
            # list them once more, so that nothing created in between goes unnoticed.
            self.screen.post_message(DirectoryChanged("runs", self.runs_dir))

    def _load_other_screens_css(self) -> None:
        """Parse the other screens' stylesheets now, while the browser is idle.

        A screen whose CSS_PATH is new to the app makes Textual re-parse all CSS and
        restyle every widget on its first push: a fifth of the time to open a big
        run. Done once here, after the first paint, it costs neither.
        """
        stylesheet = self.stylesheet
        paths = [path for path in _OTHER_SCREENS_CSS if not stylesheet.has_source(str(path), "")]
        if paths:
            stylesheet.read_all(paths)
            stylesheet.reparse()
            stylesheet.update(self)

    def on_unmount(self) -> None:
        """Stop the watcher thread; launched trainers keep running in their own sessions."""
        self.stop_watching()

    def start_watching(self) -> None:
        """Watch experiments/, runs/ and themes/ (polling with ``--poll``)."""
        if self._watcher is not None:
            return
        from dltui.tui.watch import DirectoryWatcher

        roots: list[tuple[WatchedFolder, Path]] = [
            ("experiments", self.experiments_dir),
            ("runs", self.runs_dir),
            ("themes", self.themes_dir),
            *(("logs", folder) for folder in self.logdirs),
        ]
        watcher = DirectoryWatcher(roots, self._post_directory_change, poll=self.poll)
        try:
            watcher.start()
        except OSError as exc:
            # inotify limits or an odd filesystem: the dashboard still works, just not live.
            self.notify(
                f"Cannot watch folders ({exc}); start with --poll to poll instead.",
                severity="warning",
                timeout=8,
            )
            return
        self._watcher = watcher

    def stop_watching(self) -> None:
        """Stop the folder watcher, if it runs."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _post_directory_change(
        self, kind: WatchedFolder, root: Path, paths: frozenset[Path]
    ) -> None:
        # Called on the watcher's thread; post_message is thread-safe.
        self.post_message(DirectoryChanged(kind, root, paths))

    # -- keys -----------------------------------------------------------------------------

    def load_keymap_file(self, path: Path) -> None:
        """Apply the key remaps of ``path``; its problems are reported after the first paint.

        Entries with a bad value are left out and the rest applied at once (before
        the first screen, so no key ever has its default meaning for a moment).
        Ids and clashes are checked against the table of commands after the first
        paint, and reported then.
        """
        from dltui.tui.keymap import load_keymap

        entries, self._keymap_problems = load_keymap(path)
        self.set_keymap(entries)

    @property
    def active_keymap(self) -> dict[str, str]:
        """The remaps in force, ``{binding id: keys}`` (keys in Textual's long form)."""
        return dict(self._keymap)

    def _report_keymap_problems(self, path: Path) -> None:
        from dltui.tui import keymap

        problems = [*self._keymap_problems, *keymap.keymap_problems(self._keymap, path)]
        if problems:
            # markup=False: ids and keys in the report come from the user's file.
            self.notify(keymap.problems_report(problems), title="Keymap problems",
                        severity="error", timeout=12, markup=False)  # fmt: skip

    # -- messages from watchers, screens and workers --------------------------------------

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        if message.kind == "themes":
            self.reload_themes()
            return
        # Every screen on the stack keeps its view current, not just the visible one.
        for screen in self.screen_stack:
            screen.post_message(DirectoryChanged(message.kind, message.root, message.paths))

    @on(OpenRun)
    def _open_run(self, message: OpenRun) -> None:
        # The run's history is read first, while the browser stays idle and responsive, and
        # the run view is built afterwards with its data: reading while the view mounts
        # made the reader's thread wait on the GIL for every numpy call (0.8 s instead
        # of 0.07 s for a million points), and the view painted twice.
        self._read_run(message.run_dir)
        if self._reading_notice is not None:
            self._reading_notice.stop()
        self._reading_notice = self.set_timer(
            0.3, lambda: self.notify(f"Reading run {message.run_dir.name}…", timeout=2)
        )

    @work(thread=True, exclusive=True, group="open-run", exit_on_error=False)
    def _read_run(self, run_dir: Path) -> None:
        from dltui.tui.sources import open_source

        reader = open_source(run_dir)  # reads the whole history once (numpy, vectorised)
        if not get_current_worker().is_cancelled:  # another run was chosen meanwhile
            self.post_message(RunRead(run_dir, reader))

    @on(RunRead)
    def _run_read(self, message: RunRead) -> None:
        from dltui.tui.screens.run import RunScreen

        if self._reading_notice is not None:
            self._reading_notice.stop()
            self._reading_notice = None
        self.push_screen(RunScreen(message.run_dir, message.reader))

    @on(CompareRuns)
    def _compare_runs(self, message: CompareRuns) -> None:
        from dltui.tui.screens.compare import CompareScreen

        if len(message.run_dirs) < 2:
            self.notify("Mark two or more runs (space) to compare them.", severity="warning")
            return
        self.push_screen(CompareScreen(message.run_dirs))

    @on(LaunchRequest)
    def _launch_request(self, message: LaunchRequest) -> None:
        self.launch_run(message.experiment_path)

    @on(StopRequest)
    def _stop_request(self, message: StopRequest) -> None:
        self.stop_run(message.run_dir)

    @on(ResumeRequest)
    def _resume_request(self, message: ResumeRequest) -> None:
        self.resume_run(message.run_dir)

    @on(RunLaunched)
    def _run_launched(self, message: RunLaunched) -> None:
        verb = "Resumed" if message.resumed else "Started"
        text = f"{verb} {message.experiment} run {message.run_dir.name} (pid {message.pid})."
        self.notify(printable(text, keep_newlines=False), timeout=4, markup=False)
        for screen in self.screen_stack:
            screen.post_message(
                DirectoryChanged("runs", self.runs_dir, frozenset({message.run_dir}))
            )

    @on(RunBusy)
    def _run_busy(self, message: RunBusy) -> None:
        text = (
            f"{message.run_dir.parent.name} run {message.run_dir.name} is already running: "
            f"{message.holder} is writing it, so it was not resumed a second time."
        )
        self.notify(text, title="Already running", severity="information", timeout=8)

    @on(RunExited)
    def _run_exited(self, message: RunExited) -> None:
        self.launched.pop(message.run_dir.resolve(), None)
        # Finished, or stopped on request (the stop file, or SIGTERM from this dashboard).
        ended_well = message.returncode in (EXIT_FINISHED, EXIT_INTERRUPTED, -signal.SIGTERM)
        severity: Literal["information", "error"] = "information" if ended_well else "error"
        text = f"{message.experiment_name} run {message.run_dir.name}: {message.outcome}."
        if message.reason and severity == "error":
            text += f"\n{message.reason}"
        self.notify(
            printable(text),
            severity=severity,
            timeout=6 if severity == "information" else 12,
            markup=False,
        )
        for screen in self.screen_stack:
            screen.post_message(
                DirectoryChanged("runs", self.runs_dir, frozenset({message.run_dir}))
            )

    # -- launching ------------------------------------------------------------------------

    def launch_run(self, experiment_path: Path) -> None:
        """Start a trainer for ``experiment_path``; a worker supervises it until it exits."""
        self._launch(experiment_path, None)

    def resume_run(self, run_dir: Path) -> None:
        """Resume the run in ``run_dir`` in a new trainer process."""
        if run_dir.resolve() in self.launched:
            self.notify("That run is already training.", severity="warning")
            return
        self._launch(None, run_dir)

    @work(thread=True, group="launch", exit_on_error=False)
    def _launch(self, experiment_path: Path | None, run_dir: Path | None) -> None:
        from dltui.tui import launcher

        if experiment_path is not None:
            name = launcher.experiment_name(experiment_path)
            launched = launcher.launch(experiment_path, self.runs_dir, name=name)
        else:
            assert run_dir is not None
            try:
                launched = launcher.resume(run_dir, self.runs_dir)
            except launcher.AlreadyRunning as busy:
                # Not a failure: the run trains elsewhere, which is what the user wanted.
                self.post_message(RunBusy(busy.run_dir, busy.holder.describe()))
                return
        self.launched[launched.run_dir] = launched
        self.post_message(
            RunLaunched(
                launched.run_dir,
                launched.pid,
                launched.experiment_path or Path(),
                resumed=launched.experiment_path is None,
            )
        )
        worker = get_current_worker()
        # Wait in slices: when the app quits, the worker is cancelled and returns, so the
        # dashboard exits at once while the trainer (in its own session) keeps going.
        while not worker.is_cancelled:
            try:
                returncode = launched.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            reason = launcher.ended_because(launched.run_dir)
            self.post_message(RunExited(launched.run_dir, returncode, reason))
            return

    def stop_run(self, run_dir: Path) -> None:
        """Ask the run in ``run_dir`` to stop (stop file, and SIGTERM when it runs here)."""
        from dltui.tui import launcher

        launched = self.launched.get(run_dir.resolve())
        try:
            launcher.stop(run_dir, pid=launched.pid if launched else None)
        except OSError as exc:
            self.notify(f"Cannot stop {run_dir}: {exc}", severity="error")
            return
        self.notify(f"Asked run {run_dir.name} to stop.", timeout=4)

    # -- help -----------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key of the current screen and of the app."""
        from dltui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen, self.active_keymap))


_OTHER_SCREENS_CSS = [
    Path(__file__).parent / name
    for name in (
        "screens/run.tcss",
        "screens/compare.tcss",
        "screens/sweep.tcss",
        "screens/help.tcss",
        "builder/builder.tcss",
    )
]
"""Stylesheets of the screens after the browser (each screen also names its own)."""


def _freeze_startup_objects() -> None:
    """Keep the objects that live as long as the app out of the garbage collector's scans.

    Modules, classes and Textual's own state are some 50,000 objects that never die.
    Each full collection walked all of them: 50-90 ms, often in the middle of
    building a screen (a fifth of the time to open a big run). Frozen, they are
    skipped; what is created later is collected as usual.
    """
    gc.collect()
    gc.freeze()


def run_app(
    experiments: str | Path = "experiments",
    runs: str | Path = "runs",
    themes: str | Path = "themes",
    poll: bool = False,
    keymap: str | Path | None = None,
    logdirs: Sequence[str | Path] = (),
    settings_problems: Sequence[str] = (),
) -> int:
    """Run the dashboard until the user quits; returns the process exit code."""
    app = DashboardApp(
        experiments,
        runs,
        themes,
        poll=poll,
        keymap=keymap,
        logdirs=[Path(folder) for folder in logdirs],
        settings_problems=settings_problems,
    )
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
