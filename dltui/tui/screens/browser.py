"""The experiment browser: experiments and their runs, filtered, sorted, all by keyboard.

The list is read on a worker (the schema, no torch). Each valid experiment is
then checked as `dltui check` checks it (`describe.model_report`, torch on a
worker): its mark in the list, its problems and layer tables in the details
pane, and whether `r` may start it, all come from that one check.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from dltui.safe_text import printable
from dltui.tui.commands import BROWSER_COMMANDS, bindings
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import (
    CompareRuns,
    DirectoryChanged,
    LaunchRequest,
    OpenRun,
    ResumeRequest,
    StopRequest,
)
from dltui.tui.screens.describe import describe_experiment, describe_run, stack_tables
from dltui.tui.screens.run_list import (
    SORT_MODES,
    Group,
    best_of,
    format_age,
    format_best,
    format_progress,
    monitor_of,
    visible_groups,
)
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.tui.builder.template_picker import NewExperiment
    from dltui.tui.catalog import Catalog, ExperimentEntry
    from dltui.tui.screens.describe import ModelReport

__all__ = ["STATE_COLOURS", "BrowserScreen"]

STATE_COLOURS = {
    "running": "success",
    "starting": "accent",
    "finished": "primary",
    "stopped": "warning",
    "failed": "error",
    "dead": "error",
    "broken": "error",
    "unknown": "foreground-muted",
}
"""Theme variable each run state is drawn in."""

_LIVE_REFRESH_S = 2.0
"""How often the list re-reads run states while a run is live (progress, heartbeats)."""

_AGE_TICK_S = 1.0
"""How often the Age column is brought up to date (it says seconds for young runs)."""

_MAX_COMPARE = 8

_MAX_LISTED = 10
"""Runs named one by one in the delete question; more are counted."""

CheckKey = tuple[Path, tuple[float, int]]
"""An experiment file as it was when checked: its path and (mtime, size)."""


class BrowserScreen(ReportsWorkerErrors, Screen[None]):
    """Experiments (from the experiments folder) with their runs (from the runs folder)."""

    CSS_PATH = "browser.tcss"
    COMMANDS_LIST = BROWSER_COMMANDS
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = bindings(
        BROWSER_COMMANDS
    )
    AUTO_FOCUS = "#table"
    HELP_TITLE = "Experiments and runs"

    class Painted(Message):
        """The browser is on the terminal for the first time (``time``: when, unix seconds)."""

        def __init__(self, painted_at: float) -> None:
            super().__init__()
            self.time = painted_at

    class CatalogLoaded(Message):
        """A worker finished reading the folders."""

        def __init__(self, catalog: Catalog) -> None:
            super().__init__()
            self.catalog = catalog

    class ModelChecked(Message):
        """`dltui check` ran on an experiment file (``key``: the file as it was)."""

        def __init__(self, key: CheckKey, report: ModelReport) -> None:
            super().__init__()
            self.key = key
            self.report = report

    def __init__(self, experiments_dir: Path, runs_dir: Path) -> None:
        super().__init__()
        self.experiments_dir = experiments_dir
        self.runs_dir = runs_dir
        self.catalog: Catalog | None = None
        self.sort_mode = SORT_MODES[0]
        self.filter_text = ""
        self.marked: list[Path] = []
        self.collapsed: set[str] = set()
        self._rows: dict[str, RunInfo | str] = {}
        """Row key -> the run, or the experiment name."""
        self._ages: dict[str, tuple[float | None, str]] = {}
        """Row key -> (the time its age counts from, the age shown): the clock updates
        only the cells whose text changed."""
        self.reports: dict[CheckKey, ModelReport] = {}
        """What `dltui check` found for each experiment file, as it was when checked."""
        self._checking: set[CheckKey] = set()
        self._stale = False
        self._bindings_for: tuple[str | None, str | None, bool] | None = None

    def compose(self) -> ComposeResult:
        """Title line, filter, the list beside the details, and the footer."""
        yield Static(self._title(), id="title")
        yield Input(placeholder="/ to filter: name, status, device, tag", id="filter", compact=True)
        with Horizontal(id="main"):
            yield DataTable(id="table", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="details"):
                yield Static("Reading experiments and runs…", id="details-body")
                yield Static("", id="details-tables")
        yield KeyFooter()

    def _title(self) -> Content:
        marks = self.marked_visible()
        hidden = len(self.marked) - len(marks)
        marked = ""
        if self.marked:
            marked = f"   ◆ {len(self.marked)} marked" + (f" ({hidden} hidden)" if hidden else "")
            marked += " (c compare, D delete)"
        # The marks first: a long folder path may run past the edge, the count must not.
        return Content.from_markup(
            "[b]dltui[/b]  sort: $sort$marked   experiments: $experiments   runs: $runs",
            experiments=printable(str(self.experiments_dir), keep_newlines=False),
            runs=printable(str(self.runs_dir), keep_newlines=False),
            sort=self.sort_mode,
            marked=marked,
        )

    def _show_title(self) -> None:
        self.query_one("#title", Static).update(self._title())

    def on_mount(self) -> None:
        """Set up columns and start reading the folders."""
        table = self.query_one(DataTable)
        table.add_column("Experiment / run", key="name")
        table.add_column("Status", key="status")
        table.add_column("Age", key="age")
        table.add_column("Best (metric)", key="best")
        table.add_column("Epoch", key="epoch")
        table.add_column("Device", key="device")
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
        """Stack the details under the list on narrow terminals."""
        self.set_class(self.size.width < 110, "-narrow")

    # -- loading --------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the folders on a worker (only changed experiment files are parsed)."""
        self._load(self.catalog)

    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def _load(self, previous: Catalog | None) -> None:
        from dltui.tui.catalog import load_catalog

        catalog = load_catalog(self.experiments_dir, self.runs_dir, previous)
        self.post_message(self.CatalogLoaded(catalog))
        _preload_run_view()

    @on(CatalogLoaded)
    def _catalog_loaded(self, message: CatalogLoaded) -> None:
        self.catalog = message.catalog
        known = {Path(run.path) for run in message.catalog.runs} | {
            run.path for run in self._launched_runs()
        }
        self.marked = [path for path in self.marked if path in known]
        self._fill_table()
        self._start_model_checks()

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
        launched = bool(getattr(self.app, "launched", None))
        if launched or any(run.alive for run in self.catalog.runs):
            self.reload()

    # -- the model check of each experiment ------------------------------------------------

    def _start_model_checks(self) -> None:
        """Check every valid experiment not checked as it is now (the selected one first)."""
        if self.catalog is None or not getattr(self.app, "layer_tables", True):
            return
        selected = self.selected_entry()
        pending = [
            entry
            for entry in self.catalog.experiments.values()
            if entry.valid
            and (entry.path, entry.stamp) not in self.reports
            and (entry.path, entry.stamp) not in self._checking
        ]
        if not pending:
            return
        pending.sort(key=lambda entry: entry is not selected)
        self._checking.update((entry.path, entry.stamp) for entry in pending)
        self._check_models([(entry.path, entry.stamp) for entry in pending])

    @work(thread=True, group="model-checks", exit_on_error=False)
    def _check_models(self, keys: list[CheckKey]) -> None:
        # Imports torch (on this worker only): the stacks are traced on the meta device.
        from dltui.tui.screens.describe import model_report

        for key in keys:
            self.post_message(self.ModelChecked(key, model_report(key[0])))

    @on(ModelChecked)
    def _model_checked(self, message: ModelChecked) -> None:
        self._checking.discard(message.key)
        self.reports[message.key] = message.report
        self._fill_table()

    def report_for(self, entry: ExperimentEntry | None) -> ModelReport | None:
        """What `dltui check` found for ``entry`` as the file is now (None: not yet known)."""
        if entry is None:
            return None
        return self.reports.get((entry.path, entry.stamp))

    def entry_problems(self, entry: ExperimentEntry) -> list[str]:
        """Everything `dltui check` finds wrong with ``entry`` so far (schema, then model)."""
        if not entry.valid:
            return list(entry.problems)
        report = self.report_for(entry)
        return list(report.problems) if report is not None else []

    # -- the table ------------------------------------------------------------------------

    def _now(self) -> float:
        clock = getattr(self.app, "clock", time.time)
        return float(clock())

    def _style(self, variable: str) -> Style:
        value = self.app.theme_variables.get(variable)
        if value is None:
            return Style()
        try:
            return Style(color=Color.parse(value).rich_color)
        except Exception:
            return Style()

    def _launched_runs(self) -> list[Any]:
        """Runs this dashboard started that have no records yet, shown as starting."""
        launched = getattr(self.app, "launched", None) or {}
        if not launched:
            return []
        from dltui.runs.discovery import RunInfo
        from dltui.runs.status import RunStatus

        known = {Path(run.path).resolve() for run in self.catalog.runs} if self.catalog else set()
        runs = []
        for run_dir, process in list(launched.items()):
            if Path(run_dir).resolve() in known or process.experiment_path is None:
                continue  # recorded already, or a resume (its run is listed)
            try:
                created: float | None = Path(run_dir).stat().st_mtime
            except OSError:
                created = None
            status = RunStatus("starting", "starting", None, None, process.pid, None, None, None,
                               True)  # fmt: skip
            path = Path(run_dir)
            runs.append(
                RunInfo(
                    experiment=path.parent.name,
                    run_id=path.name,
                    path=path,
                    created=created,
                    state="starting",
                    reason="the trainer is starting",
                    device=None,
                    best=None,
                    monitor=None,
                    best_epoch=None,
                    epoch=None,
                    step=None,
                    status=status,
                    meta={},
                )
            )
        return runs

    def _visible(self) -> list[Group]:
        """Experiments, each with its runs, filtered and sorted."""
        if self.catalog is None:
            return []
        return visible_groups(self.catalog, self._launched_runs(), self.filter_text, self.sort_mode)

    def _experiment_status(self, entry: ExperimentEntry | None, runs: list[Any]) -> Text:
        muted = self._style("foreground-muted")
        if entry is None:
            return Text("no file", style=muted)
        if self.entry_problems(entry):
            return Text("invalid", style=self._style("error"))
        return Text(f"{len(runs)} run{'s' if len(runs) != 1 else ''}", style=muted)

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_key
        scroll_y = table.scroll_y
        table.clear()
        self._rows = {}
        self._ages = {}
        now = self._now()
        for group in self._visible():
            name, runs, entry = group.name, group.runs, group.entry
            key = f"exp:{name}"
            self._rows[key] = name
            folded = name in self.collapsed
            arrow = "▸" if folded else "▾"
            latest = max((r.created for r in runs if r.created), default=None)
            monitor = monitor_of(entry, runs)
            age = format_age(now - latest if latest else None)
            self._ages[key] = (latest, age)
            table.add_row(
                Text(f"{arrow} {printable(name, keep_newlines=False)}", style="bold"),
                self._experiment_status(entry, runs),
                age,
                format_best(best_of(runs, monitor), monitor),
                "",
                "",
                key=key,
            )
            if folded:
                continue
            for run in runs:
                run_key = f"run:{run.path}"
                self._rows[run_key] = run
                colour = self._style(STATE_COLOURS.get(run.state, "foreground"))
                age = format_age(now - run.created if run.created else None)
                self._ages[run_key] = (run.created, age)
                table.add_row(
                    self._run_label(run),
                    Text(run.state, style=colour),
                    age,
                    format_best(run.best, run.monitor),
                    format_progress(run),
                    printable(run.device or "-", keep_newlines=False),
                    key=run_key,
                )
        if not self._rows:
            self._show_empty()
        if selected in self._rows:
            table.move_cursor(row=table.get_row_index(selected), scroll=False)
            table.scroll_y = scroll_y
        self._show_title()
        self._show_details()

    def _run_label(self, run: Any) -> Text:
        mark = "◆" if run.path in self.marked else " "
        return Text(f"  {mark} {printable(run.run_id, keep_newlines=False)}")

    def _tick_ages(self) -> None:
        """Bring the Age column up to date (only cells whose text changed)."""
        if self.app.screen is not self or self.catalog is None:
            return
        table = self.query_one(DataTable)
        now = self._now()
        for key, (since, shown) in list(self._ages.items()):
            age = format_age(now - since if since else None)
            if age != shown:
                self._ages[key] = (since, age)
                table.update_cell(key, "age", age)
                if key == self.selected_key and self.selected_run is not None:
                    self._show_details()  # its "(2m ago)" too

    def _show_empty(self) -> None:
        if self.filter_text:
            text = Content.from_markup(
                "Nothing matches “$needle”. Press escape to clear the filter.",
                needle=printable(self.filter_text, keep_newlines=False),
            )
        else:
            text = Content.from_markup(
                "No experiments in $experiments and no runs in $runs.\n\n"
                "Press [b]n[/b] to build a new experiment from a template, or write a TOML file "
                "into $experiments/ — it appears here by itself.",
                experiments=printable(str(self.experiments_dir), keep_newlines=False),
                runs=printable(str(self.runs_dir), keep_newlines=False),
            )
        self.query_one("#details-body", Static).update(text)
        self.query_one("#details-tables", Static).update("")

    @property
    def selected_key(self) -> str | None:
        """The row key under the cursor."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return key

    @property
    def selected_run(self) -> RunInfo | None:
        """The run under the cursor (None on an experiment row)."""
        row = self._rows.get(self.selected_key or "")
        return None if row is None or isinstance(row, str) else row

    @property
    def selected_experiment(self) -> str | None:
        """The experiment under the cursor, or the experiment of the run under it."""
        row = self._rows.get(self.selected_key or "")
        if row is not None and not isinstance(row, str):
            return str(row.experiment)
        return row

    def selected_entry(self) -> ExperimentEntry | None:
        """The experiment file of the selection, if there is one."""
        name = self.selected_experiment
        if name is None or self.catalog is None:
            return None
        return self.catalog.entry_named(name)

    def visible_runs(self) -> list[Any]:
        """The runs in the list as it is shown now (filtered, not folded away)."""
        return [row for row in self._rows.values() if not isinstance(row, str)]

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
        run = self.selected_run
        selection = (
            self.selected_key,
            run.state if run is not None else None,
            self.selected_entry() is not None,
        )
        if selection != self._bindings_for:
            self._bindings_for = selection
            self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def _show_details(self) -> None:
        body = self.query_one("#details-body", Static)
        tables = self.query_one("#details-tables", Static)
        run = self.selected_run
        if run is not None:
            body.update(describe_run(run, self._now()))
            tables.update("")
            return
        name = self.selected_experiment
        if name is None:
            return
        entry = self.catalog.entry_named(name) if self.catalog else None
        runs = [r for r in self.visible_runs() if r.experiment == name]
        if self.catalog is not None and name in self.collapsed:
            runs = list(self.catalog.runs_of(name))
        if entry is None:
            body.update(
                Content.from_markup(
                    "[b]$name[/b]\n\n[$text-muted]No experiment file named $name in "
                    "$folder; $count recorded run(s).[/]",
                    name=printable(name, keep_newlines=False),
                    folder=printable(str(self.experiments_dir), keep_newlines=False),
                    count=len(runs),
                )
            )
            tables.update("")
            return
        report = self.report_for(entry)
        checking = report is None and entry.valid and bool(getattr(self.app, "layer_tables", True))
        body.update(describe_experiment(entry, runs, report, checking=checking))
        tables.update(stack_tables(report) if entry.valid else "")

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply to the selection."""
        run = self.selected_run
        if action == "stop":
            return True if run is not None and run.alive else None
        if action == "resume":
            return True if run is not None and run.state in ("stopped", "failed", "dead") else None
        if action in ("launch", "edit"):
            return True if self.selected_entry() is not None else None
        return True

    def action_open(self) -> None:
        """Open the selected run, or the newest run of the selected experiment."""
        run = self.selected_run
        if run is None:
            name = self.selected_experiment
            if name is None or self.catalog is None:
                return
            runs = sorted(self.catalog.runs_of(name), key=lambda r: -(r.created or 0))
            if not runs:
                self.notify(f"{name} has no runs yet: press r to start one.", timeout=4,
                            markup=False)  # fmt: skip
                return
            run = runs[0]
        if run.state == "broken":
            # Nothing to show in a run view: say why instead (the reason is plain text).
            self.notify(
                f"Run {run.run_id} is broken: {run.reason}", severity="warning", markup=False
            )
            return
        if run.state == "starting" and not Path(run.path, "meta.json").exists():
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
        table = self.query_one(DataTable)
        table.update_cell(f"run:{run.path}", "name", self._run_label(run))
        self._show_title()
        table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the marked runs in view, or the runs of the selected experiment."""
        paths = self.marked_visible()
        if len(paths) < 2 and self.catalog is not None and self.selected_experiment:
            runs = sorted(
                self.catalog.runs_of(self.selected_experiment),
                key=lambda r: -(r.created or 0),
            )
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
        problems = self.entry_problems(entry)
        if problems:
            more = f"\n… and {len(problems) - 5} more" if len(problems) > 5 else ""
            self.notify(
                printable("\n".join(problems[:5])) + more,
                title=f"Not started: {printable(entry.path.name, keep_newlines=False)} is invalid",
                severity="error",
                timeout=12,
                markup=False,
            )
            return
        self.post_message(LaunchRequest(entry.path))

    def action_stop(self) -> None:
        """Ask the selected run to stop."""
        run = self.selected_run
        if run is not None and run.alive:
            self.post_message(StopRequest(run.path))

    def action_resume(self) -> None:
        """Resume the selected run."""
        run = self.selected_run
        if run is not None:
            self.post_message(ResumeRequest(run.path))

    def action_delete(self) -> None:
        """Delete the marked runs in view (or else the selected one) after asking.

        Marked runs that the filter or a folded experiment hides are left alone:
        what is deleted is always what the person sees. Live runs are refused.
        """
        if self.catalog is None:
            return
        by_path = {run.path: run for run in self.visible_runs()}
        marked = self.marked_visible()
        if marked:
            runs = [by_path[path] for path in marked]
        else:
            runs = [self.selected_run] if self.selected_run is not None else []
        if not runs:
            self.notify(
                "Select a run, or mark runs with space, to delete them.", severity="warning"
            )
            return
        live = [run for run in runs if run.alive]
        if live:
            names = ", ".join(printable(run.run_id, keep_newlines=False) for run in live)
            self.notify(
                f"Not deleting live run{'s' if len(live) > 1 else ''} {names}: stop "
                f"{'them' if len(live) > 1 else 'it'} first (S).",
                severity="warning",
                timeout=6,
                markup=False,
            )
        runs = [run for run in runs if not run.alive]
        if runs:
            self._measure_for_delete(runs, len(self.marked) - len(marked))

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def _measure_for_delete(self, runs: list[RunInfo], hidden: int) -> None:
        from dltui.runs.removal import run_disk_usage

        size = sum(run_disk_usage(run.path) for run in runs)
        self.app.call_from_thread(self._confirm_delete, runs, size, hidden)

    def _confirm_delete(self, runs: list[RunInfo], size: int, hidden: int = 0) -> None:
        from dltui.tui.plotting.axis import format_bytes
        from dltui.tui.screens.confirm import ConfirmDialog

        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        listed = [
            printable(f"  {run.experiment}/{run.run_id}  ({run.state})", keep_newlines=False)
            for run in runs[:_MAX_LISTED]
        ]
        if len(runs) > _MAX_LISTED:
            listed.append(f"  … and {len(runs) - _MAX_LISTED} more")
        lines = [
            *listed,
            "",
            f"{count}, {format_bytes(size)} on disk, from {printable(str(self.runs_dir))}.",
            f"The folder{'s are' if len(runs) != 1 else ' is'} removed for good: no undo.",
        ]
        if hidden:
            lines.append(
                f"{hidden} other marked run{'s' if hidden != 1 else ''}, hidden by the filter, "
                f"{'are' if hidden != 1 else 'is'} not deleted."
            )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._delete_runs([run.path for run in runs])

        dialog = ConfirmDialog(f"Delete {count}?", "\n".join(lines), "Delete")
        self.app.push_screen(dialog, answered)

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def _delete_runs(self, paths: list[Path]) -> None:
        from dltui.runs.removal import RunRemovalError, remove_run

        removed: list[Path] = []
        freed = 0
        errors: list[str] = []
        for path in paths:
            try:
                freed += remove_run(path)
            except RunRemovalError as error:
                errors.append(str(error))
            else:
                removed.append(path)
        self.app.call_from_thread(self._runs_deleted, removed, freed, errors)

    def _runs_deleted(self, removed: list[Path], freed: int, errors: list[str]) -> None:
        from dltui.tui.plotting.axis import format_bytes

        gone = set(removed)
        self.marked = [path for path in self.marked if path not in gone]
        self._select_survivor(gone)
        if removed:
            names = ", ".join(printable(path.name, keep_newlines=False) for path in removed[:3])
            more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
            self.notify(f"Deleted {names}{more} ({format_bytes(freed)}).", timeout=4,
                        markup=False)  # fmt: skip
        if errors:
            self.notify(printable("\n".join(errors[:5])), title="Not deleted", severity="error",
                        timeout=12, markup=False)  # fmt: skip
        self.reload()

    def _select_survivor(self, gone: set[Path]) -> None:
        """Move the cursor off deleted runs, to the next row that stays (or the one before)."""
        table = self.query_one(DataTable)
        keys = list(self._rows)
        selected = self.selected_key
        if selected is None or selected not in keys:
            return
        row = self._rows[selected]
        if isinstance(row, str) or row.path not in gone:
            return
        index = keys.index(selected)
        for key in [*keys[index + 1 :], *reversed(keys[:index])]:
            candidate = self._rows[key]
            if isinstance(candidate, str) or candidate.path not in gone:
                table.move_cursor(row=table.get_row_index(key), scroll=False)
                return

    def action_new(self) -> None:
        """Pick a template and name the experiment, then open the builder on it."""
        if self._quitting():
            return
        from dltui.tui.builder.template_picker import TemplatePicker

        def chosen(choice: NewExperiment | None) -> None:
            if choice is not None:
                self._open_builder(None, new=choice)

        self.app.push_screen(TemplatePicker(self.experiments_dir), chosen)

    def action_edit(self) -> None:
        """Open the builder on the selected experiment's file."""
        entry = self.selected_entry()
        if entry is not None:
            self._open_builder(entry.path)

    def _quitting(self) -> bool:
        """Whether the app is on its way out (q, then e or n before it has gone)."""
        return self.app.return_code is not None or not self.is_attached

    def _open_builder(self, path: Path | None, new: NewExperiment | None = None) -> None:
        if self._quitting():
            return
        try:
            from dltui.tui.builder import BuilderScreen
        except ImportError as exc:
            self.notify(f"The builder is not available: {exc}", severity="error", markup=False)
            return
        self.app.push_screen(BuilderScreen(self.experiments_dir, path=path, new=new))

    def action_filter(self) -> None:
        """Focus the filter box."""
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._fill_table()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def on_key(self, event: Any) -> None:
        """Down/escape in the filter box go back to the list."""
        filter_box = self.query_one("#filter", Input)
        if self.focused is filter_box and event.key in ("down", "escape"):
            if event.key == "escape":
                filter_box.value = ""
            self.query_one(DataTable).focus()
            event.stop()

    def action_clear(self) -> None:
        """Clear the filter and the marks."""
        self.query_one("#filter", Input).value = ""
        self.filter_text = ""
        self.marked.clear()
        self._fill_table()

    def action_sort(self) -> None:
        """Cycle the sort order."""
        self.sort_mode = SORT_MODES[(SORT_MODES.index(self.sort_mode) + 1) % len(SORT_MODES)]
        self._fill_table()

    def action_refresh(self) -> None:
        """Re-read experiments and runs."""
        self.reload()

    def action_cursor_down(self) -> None:
        """Move the cursor down."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Move the cursor up."""
        self.query_one(DataTable).action_cursor_up()

    def action_top(self) -> None:
        """Go to the first row."""
        table = self.query_one(DataTable)
        table.move_cursor(row=0)

    def action_bottom(self) -> None:
        """Go to the last row."""
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.row_count - 1))

    def action_collapse(self) -> None:
        """Fold the selected experiment's runs away."""
        name = self.selected_experiment
        if name is not None and name not in self.collapsed:
            self.collapsed.add(name)
            self._fill_table()
            self._select(f"exp:{name}")

    def action_expand(self) -> None:
        """Unfold the selected experiment's runs."""
        name = self.selected_experiment
        if name is not None and name in self.collapsed:
            self.collapsed.discard(name)
            self._fill_table()
            self._select(f"exp:{name}")

    def _select(self, key: str) -> None:
        table = self.query_one(DataTable)
        if key in self._rows:
            table.move_cursor(row=table.get_row_index(key))


def _preload_run_view() -> None:
    """Import the run view's code (panes, plotting, the run reader) on a worker.

    Kept out of start-up so the first screen paints sooner, and done while the
    user looks at the list, so that opening the first run does not pay for it.
    Python imports each module once, so this costs nothing after the first call.
    """
    import dltui.tui.screens.run
    import dltui.tui.screens.run_panes
    import dltui.tui.widgets  # noqa: F401
