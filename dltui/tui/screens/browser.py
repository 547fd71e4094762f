"""The experiment browser: experiments and their runs, filtered, sorted, all by keyboard.

The list is read on a worker (the schema, no torch). Each valid experiment is
then checked as `dltui check` checks it (`describe.model_report`, torch on a
worker): its mark in the list, its problems and layer tables in the details
pane, and whether `r` may start it, all come from that one check. What the
list holds is worked out in `run_list` (no Textual) and drawn by `RunTable`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from dltui.logs.sources import LOGGING
from dltui.run_format import BROKEN, META, RESUMABLE_STATES, STARTING
from dltui.safe_text import printable
from dltui.tui.commands import BROWSER
from dltui.tui.key_footer import KeyFooter
from dltui.tui.launcher import refusal
from dltui.tui.messages import (
    CompareRuns,
    DirectoryChanged,
    LaunchRequest,
    OpenRun,
    OpenSweep,
    ResumeRequest,
    StopRequest,
    SweepResumeRequest,
    SweepStopRequest,
)
from dltui.tui.screens.browser_details import BrowserDetails, browser_title
from dltui.tui.screens.browser_sweeps import start_sweep
from dltui.tui.screens.dashboard_screen import DashboardScreen
from dltui.tui.screens.describe import CheckKey, ModelChecks
from dltui.tui.screens.run_deletion import delete_shown_runs
from dltui.tui.screens.run_list import list_rows, newest_first, starting_runs, visible_groups
from dltui.tui.screens.run_table import RunTable
from dltui.tui.screens.table_cursor import TableCursorKeys
from dltui.tui.sources import cannot_control, report_log_problems
from dltui.tui.sweep_launch import RESUMABLE as SWEEP_RESUMABLE
from dltui.tui.sweep_launch import resume_refusal
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.runs.filters import SortMode
    from dltui.tui.catalog import Catalog, ExperimentEntry
    from dltui.tui.screens.describe import ModelReport
    from dltui.tui.sweep_catalog import SweepEntry

__all__ = ["BrowserScreen"]

_LIVE_REFRESH_S = 2.0
"""How often the list re-reads run states while a run is live (progress, heartbeats)."""

_AGE_TICK_S = 1.0
"""How often the Age column is brought up to date (it says seconds for young runs)."""

_MAX_COMPARE = 8


class BrowserScreen(TableCursorKeys, ReportsWorkerErrors, DashboardScreen):
    """Experiments (from the experiments folder) with their runs (from the runs folder)."""

    CSS_PATH = "browser.tcss"
    SCOPE = BROWSER
    BINDINGS: ClassVar = BROWSER.bindings()
    AUTO_FOCUS = "#table"

    @dataclass
    class Painted(Message):
        """The browser is on the terminal for the first time (``time``: when, unix seconds)."""

        time: float

    @dataclass
    class CatalogLoaded(Message):
        """A worker finished reading the folders (a newer reading replaces a queued one)."""

        catalog: Catalog

        def can_replace(self, message: Message) -> bool:
            """Only the newest reading of the folders matters."""
            return isinstance(message, BrowserScreen.CatalogLoaded)

    @dataclass
    class ModelChecked(Message):
        """`dltui check` ran on an experiment file (``key``: the file as it was)."""

        key: CheckKey
        report: ModelReport

    def __init__(self, experiments_dir: Path, runs_dir: Path) -> None:
        super().__init__()
        self.experiments_dir = experiments_dir
        self.runs_dir = runs_dir
        self.catalog: Catalog | None = None
        self.sort_mode: SortMode = "newest"
        self.filter_text = ""
        self.marked: list[Path] = []
        self.collapsed: set[str] = set()
        self.checks = ModelChecks()
        """What `dltui check` found for each experiment file."""
        self._stale = False
        self._bindings_for: tuple[str | None, str | None, bool, bool] | None = None
        self._sweep_problems: list[str] = []

    def compose(self) -> ComposeResult:
        """Title line, filter, the list beside the details, and the footer."""
        yield Static(self._title(), id="title")
        yield Input(placeholder="/ to filter: name, status, device, tag", id="filter", compact=True)
        with Horizontal(id="main"):
            yield RunTable(id="table")
            yield BrowserDetails(id="details")
        yield KeyFooter()

    @property
    def table(self) -> RunTable:
        """The list of experiments and runs."""
        return self.query_one(RunTable)

    def _title(self) -> Content:
        hidden = len(self.marked) - len(self.marked_visible() if self.is_mounted else [])
        return browser_title(
            self.sort_mode, len(self.marked), hidden, self.experiments_dir, self.runs_dir
        )

    def _show_title(self) -> None:
        self.query_one("#title", Static).update(self._title())

    def on_mount(self) -> None:
        """Start reading the folders once the first screen is painted."""
        # Reading the folders imports the schema (pydantic) and numpy on a worker; started
        # after the first paint, it cannot hold the GIL while the screen is being drawn.
        self.call_after_refresh(self._first_painted)
        self.set_interval(_LIVE_REFRESH_S, self._refresh_live)
        self.set_interval(_AGE_TICK_S, self._tick_ages)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._fill_table())

    def _first_painted(self) -> None:
        self.post_message(self.Painted(time.time()))
        self.reload()

    def on_resize(self) -> None:
        """Stack the details under the list on narrow terminals; fit the list's columns."""
        self.set_class(self.size.width < 110, "-narrow")
        self.call_after_refresh(self.table.refit)  # once the new widths are laid out

    # -- loading --------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the folders on a worker (only changed experiment files are parsed)."""
        self._load(self.catalog)

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def _load(self, previous: Catalog | None) -> None:
        from dltui.tui.catalog import load_catalog

        catalog = load_catalog(
            self.experiments_dir, self.runs_dir, previous, self.dashboard.logdirs
        )
        self.post_message(self.CatalogLoaded(catalog))
        _preload_run_view()

    @on(CatalogLoaded)
    def _catalog_loaded(self, message: CatalogLoaded) -> None:
        self.catalog = message.catalog
        known = {Path(run.path) for run in message.catalog.runs} | {
            run.path for run in self._launched_runs()
        }
        self.marked = [path for path in self.marked if path in known]
        new = [p for p in message.catalog.sweep_problems if p not in self._sweep_problems]
        self._sweep_problems = list(message.catalog.sweep_problems)
        if new:  # said once, not on every reading of the folders
            self.notify("\n".join(new), title="Sweeps that cannot be read", severity="warning",
                        timeout=10, markup=False)  # fmt: skip
        self._fill_table()
        self._start_model_checks()
        report_log_problems(self, message.catalog.log_problems)

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        if self.app.screen is self:
            self.reload()
        else:
            # Under another screen (a run being watched): catch up when shown again,
            # rather than re-reading every run while nobody sees the list.
            self._stale = True

    def on_screen_resume(self) -> None:
        """Catch up with the folders if they changed while another screen was on top."""
        if self._stale:
            self._stale = False
            self.reload()

    def _refresh_live(self) -> None:
        # Progress and heartbeats of live runs, and runs this dashboard launched that have
        # not written meta.json yet, are picked up here rather than from every file event.
        if self.catalog is None or self.app.screen is not self:
            return
        sweeping = any(sweep.alive for sweep in self.catalog.sweeps)
        logging = any(run.alive or run.state == LOGGING for run in self.catalog.runs)
        if self.dashboard.launched or sweeping or logging:
            self.reload()

    # -- the model check of each experiment ------------------------------------------------

    def _start_model_checks(self) -> None:
        """Check every valid experiment not checked as it is now (the selected one first)."""
        if self.catalog is not None and self.dashboard.layer_tables:
            keys = self.checks.start(self.catalog.experiments.values(), self.selected_entry())
            if keys:
                self._check_models(keys)

    @work(thread=True, group="model-checks", exit_on_error=False)
    def _check_models(self, keys: list[CheckKey]) -> None:
        # Imports torch (on this worker only): the stacks are traced on the meta device.
        from dltui.tui.screens.describe import model_report

        for key in keys:
            self.post_message(self.ModelChecked(key, model_report(key[0])))

    @on(ModelChecked)
    def _model_checked(self, message: ModelChecked) -> None:
        self.checks.done(message.key, message.report)
        self._fill_table()

    # -- the list -------------------------------------------------------------------------

    def _now(self) -> float:
        return float(self.dashboard.clock())

    def _launched_runs(self) -> list[RunInfo]:
        """Runs this dashboard started that have no records yet, shown as starting."""
        return starting_runs(self.dashboard.launched, self.catalog.runs if self.catalog else [])

    def _fill_table(self) -> None:
        groups = (
            visible_groups(self.catalog, self._launched_runs(), self.filter_text, self.sort_mode)
            if self.catalog is not None
            else []
        )
        rows = list_rows(
            groups,
            self._now(),
            marked=set(self.marked),
            collapsed=self.collapsed,
            invalid=lambda entry: bool(self.checks.problems(entry)),
            sweeps=self.catalog.sweeps if self.catalog is not None else (),
        )
        self.table.show(rows)
        if not rows:
            self.query_one(BrowserDetails).show_empty(
                self.filter_text, self.experiments_dir, self.runs_dir
            )
        self._show_title()
        self._show_details()

    def _tick_ages(self) -> None:
        """Bring the Age column up to date (only cells whose text changed)."""
        if self.app.screen is not self or self.catalog is None:
            return
        if self.table.tick(self._now()) and self.selected_run is not None:
            self._show_details()  # its "(2m ago)" too

    @property
    def selected_run(self) -> RunInfo | None:
        """The run under the cursor (None on an experiment row)."""
        return self.table.selected_run

    @property
    def selected_sweep(self) -> SweepEntry | None:
        """The sweep under the cursor (None on any other row)."""
        return self.table.selected_sweep

    @property
    def selected_experiment(self) -> str | None:
        """The experiment under the cursor, or the experiment of the run under it."""
        return self.table.selected_experiment

    def selected_entry(self) -> ExperimentEntry | None:
        """The experiment file of the selection, if there is one."""
        name = self.selected_experiment
        if name is None or self.catalog is None:
            return None
        return self.catalog.entry_named(name)

    def visible_runs(self) -> list[RunInfo]:
        """The runs in the list as it is shown now (filtered, not folded away)."""
        return self.table.runs()

    def marked_visible(self) -> list[Path]:
        """The marked runs the list shows now, in the order they were marked."""
        shown = {run.path for run in self.visible_runs()}
        return [path for path in self.marked if path in shown]

    # -- details --------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_details()
        # Stop/resume/run depend on what is selected. Refreshing the bindings recomposes
        # the footer, so only when the selection or its run's state really changed (the
        # table is refilled, and the row highlighted again, on every reload).
        run, sweep = self.selected_run, self.selected_sweep
        selection = (
            self.table.selected_key,
            run.state if run is not None else sweep.state if sweep is not None else None,
            self.selected_entry() is not None,
            self._sweepable(),
        )
        if selection != self._bindings_for:
            self._bindings_for = selection
            self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def _show_details(self) -> None:
        details = self.query_one(BrowserDetails)
        run, name, sweep = self.selected_run, self.selected_experiment, self.selected_sweep
        if sweep is not None:
            details.show_sweep(sweep, self._now())
        elif run is not None:
            details.show_run(run, self._now())
        elif name is not None and self.catalog is not None:
            entry = self.catalog.entry_named(name)
            folded = name in self.collapsed
            runs = self.catalog.runs_of(name) if folded else self.table.runs_of(name)
            report = self.checks.report_for(entry)
            checking = report is None and entry is not None and entry.valid
            details.show_experiment(name, entry, runs, report, folder=self.experiments_dir,
                                    checking=checking and self.dashboard.layer_tables)  # fmt: skip

    # -- actions --------------------------------------------------------------------------

    def _sweepable(self) -> bool:
        entry = self.selected_entry()
        shown = entry.shown if entry is not None else None
        return shown is not None and shown.sweep is not None

    def footer_hidden_actions(self) -> frozenset[str]:
        """``w`` is in the footer only on an experiment with a [sweep] table (help lists it)."""
        return frozenset() if self._sweepable() else frozenset({"sweep"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply to the selection."""
        run = self.selected_run
        if action in ("stop", "resume") and run is not None and run.source:
            return True  # offered, to say why it does not apply (see action_stop)
        if action == "stop":
            sweep = self.selected_sweep
            alive = run.alive if run is not None else sweep is not None and sweep.alive
            return True if alive else None
        if action == "resume":
            sweep = self.selected_sweep
            if sweep is not None:
                return True if sweep.state in SWEEP_RESUMABLE else None
            return True if run is not None and run.state in RESUMABLE_STATES else None
        if action in ("launch", "edit", "sweep"):
            return True if self.selected_entry() is not None else None
        return True

    def action_open(self) -> None:
        """Open the selected run, or the newest run of the selected experiment."""
        run, sweep = self.selected_run, self.selected_sweep
        if sweep is not None:
            self.post_message(OpenSweep(sweep.folder.path))
            return
        if run is None:
            name = self.selected_experiment
            if name is None or self.catalog is None:
                return
            runs = newest_first(self.catalog.runs_of(name))
            if not runs:
                self.notify(f"{name} has no runs yet: press r to start one.", timeout=4,
                            markup=False)  # fmt: skip
                return
            run = runs[0]
        if run.state == BROKEN:
            # Nothing to show in a run view: say why instead (the reason is plain text).
            self.notify(
                f"Run {run.run_id} is broken: {run.reason}", severity="warning", markup=False
            )
            return
        if run.state == STARTING and not Path(run.path, META).exists():
            self.notify("That run is still starting: it opens once it has records.", timeout=3)
            return
        self.post_message(OpenRun(run.path))

    def action_mark(self) -> None:
        """Mark or unmark the selected run for comparing, then move down."""
        run = self.selected_run
        if run is None:
            return
        if run.path in self.marked:
            self.marked.remove(run.path)
        else:
            self.marked.append(run.path)
        self.table.mark(run, run.path in self.marked)
        self._show_title()
        self.table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the marked runs in view, or the runs of the selected experiment."""
        paths = self.marked_visible()
        if len(paths) < 2 and self.catalog is not None and self.selected_experiment:
            runs = newest_first(self.catalog.runs_of(self.selected_experiment))
            paths = [r.path for r in runs[:_MAX_COMPARE]]
        if len(paths) < 2:
            self.notify("Mark two or more runs with space, then press c.", severity="warning")
            return
        self.post_message(CompareRuns(paths[:_MAX_COMPARE]))

    def action_launch(self) -> None:
        """Start training the selected experiment (refused, with the reasons, when invalid)."""
        entry = self.selected_entry()
        if entry is None:
            self.notify("Select an experiment with a file to run it.", severity="warning")
            return
        problems = self.checks.problems(entry)
        if problems:
            title, text = refusal(entry.path.name, problems)
            self.notify(text, title=title, severity="error", timeout=12, markup=False)
            return
        self.post_message(LaunchRequest(entry.path))

    def action_sweep(self) -> None:
        """Start a sweep of the selected experiment, after asking (its [sweep] table)."""
        start_sweep(self)

    def action_stop(self) -> None:
        """Ask the selected run (or sweep) to stop."""
        run, sweep = self.selected_run, self.selected_sweep
        if sweep is not None and sweep.alive:
            self.post_message(SweepStopRequest(sweep.folder.path))
        elif run is not None and run.source:
            self.notify(cannot_control(run.source, "stop"), severity="warning", timeout=6)
        elif run is not None and run.alive:
            self.post_message(StopRequest(run.path))

    def action_resume(self) -> None:
        """Resume the selected run (or carry on the selected sweep)."""
        run, sweep = self.selected_run, self.selected_sweep
        if sweep is not None and sweep.state in SWEEP_RESUMABLE:
            self.post_message(SweepResumeRequest(sweep.folder.path))
        elif sweep is not None:  # greyed, but the palette still asks: say why not
            name = printable(sweep.name, keep_newlines=False)
            refusal = resume_refusal(name, sweep.state, sweep.done, sweep.folder.budget)
            self.notify(refusal or "", severity="warning", timeout=5)
        elif run is not None and run.source:
            self.notify(cannot_control(run.source, "resume"), severity="warning", timeout=6)
        elif run is not None:
            self.post_message(ResumeRequest(run.path))

    def action_delete(self) -> None:
        """Delete the marked runs in view, or else the selected one, after asking."""
        delete_shown_runs(self)

    def action_new(self) -> None:
        """Pick a template and name the experiment, then open the builder on it."""
        self._open_builder(None)

    def action_edit(self) -> None:
        """Open the builder on the selected experiment's file."""
        entry = self.selected_entry()
        if entry is not None:
            self._open_builder(entry.path)

    def _open_builder(self, path: Path | None) -> None:
        def still_wanted() -> bool:  # not when q came first: the app is on its way out
            return self.app.return_code is None and self.is_attached

        if not still_wanted():
            return
        try:
            from dltui.tui.builder import open_builder
        except ImportError as exc:
            self.notify(f"The builder is not available: {exc}", severity="error", markup=False)
            return
        open_builder(self.app, self.experiments_dir, path, still_wanted=still_wanted)

    def action_filter(self) -> None:
        """Focus the filter box (in it, ``/`` is typed: names like ``tb/run1`` hold one)."""
        box = self.query_one("#filter", Input)
        if self.focused is box:
            box.insert_text_at_cursor("/")
            return
        # At once, not on the next idle (what `focus()` does): the keys typed right after
        # the slash come next, and must land in the box.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._fill_table()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        """Down/escape in the filter box go back to the list."""
        filter_box = self.query_one("#filter", Input)
        if self.focused is filter_box and event.key in ("down", "escape"):
            if event.key == "escape":
                filter_box.value = ""
            self.table.focus()
            event.stop()

    def action_clear(self) -> None:
        """Clear the filter and the marks."""
        self.query_one("#filter", Input).value = ""
        self.filter_text = ""
        self.marked.clear()
        self._fill_table()

    def action_sort(self) -> None:
        """Cycle the sort order."""
        from dltui.runs.filters import SORT_MODES

        self.sort_mode = SORT_MODES[(SORT_MODES.index(self.sort_mode) + 1) % len(SORT_MODES)]
        self._fill_table()

    def action_refresh(self) -> None:
        """Re-read experiments and runs."""
        self.reload()

    def action_collapse(self) -> None:
        """Fold the selected experiment's runs away."""
        self._fold(True)

    def action_expand(self) -> None:
        """Unfold the selected experiment's runs."""
        self._fold(False)

    def _fold(self, folded: bool) -> None:
        sweep = self.selected_sweep
        if sweep is not None and (sweep.key in self.collapsed) != folded:
            (self.collapsed.add if folded else self.collapsed.discard)(sweep.key)
            self._fill_table()
            self.table.select(sweep.key)
            return
        name = self.selected_experiment
        if name is not None and (name in self.collapsed) != folded:
            (self.collapsed.add if folded else self.collapsed.discard)(name)
            self._fill_table()
            self.table.select(f"exp:{name}")


def _preload_run_view() -> None:
    """Import the run view's code (panes, plotting, the run reader) on a worker.

    Kept out of start-up so the first screen paints sooner, and done while the
    user looks at the list, so that opening the first run does not pay for it.
    Python imports each module once, so this costs nothing after the first call.
    """
    import dltui.tui.screens.run
    import dltui.tui.screens.run_panes
    import dltui.tui.widgets  # noqa: F401
