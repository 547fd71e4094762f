"""The experiment browser: experiments and their runs, filtered, sorted, all by keyboard."""

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
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

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
from dltui.tui.screens.describe import describe_experiment, describe_run
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.tui.catalog import Catalog, ExperimentEntry

SORT_MODES = ("newest", "name", "best", "status")
"""The orders the browser cycles through with `o`."""

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

STATE_ORDER = {
    "running": 0,
    "starting": 1,
    "dead": 2,
    "failed": 3,
    "stopped": 4,
    "finished": 5,
    "broken": 6,
}

_LIVE_REFRESH_S = 2.0
"""How often the list re-reads run states while a run is live (progress, heartbeats)."""

_MAX_COMPARE = 8

_MAX_LISTED = 10
"""Runs named one by one in the delete question; more are counted."""


def format_age(seconds: float | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: how long ago, in the fewest characters."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def format_value(value: float | None) -> str:
    """A metric in at most 8 characters."""
    if value is None:
        return "-"
    if value != value:
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


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
        self._summaries: dict[tuple[Path, tuple[float, int]], str] = {}
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
        yield KeyFooter()

    def _title(self) -> str:
        return (
            f"[b]dltui[/b]  experiments: {self.experiments_dir}   runs: {self.runs_dir}"
            f"   sort: {self.sort_mode}"
        )

    def on_mount(self) -> None:
        """Set up columns and start reading the folders."""
        table = self.query_one(DataTable)
        table.add_column("Experiment / run", key="name")
        table.add_column("Status", key="status")
        table.add_column("Age", key="age")
        table.add_column("Best", key="best")
        table.add_column("Epoch", key="epoch")
        table.add_column("Device", key="device")
        # Reading the folders imports the schema (pydantic) and numpy on a worker; started
        # after the first paint, it cannot hold the GIL while the screen is being drawn.
        self.call_after_refresh(self._first_painted)
        self.set_interval(_LIVE_REFRESH_S, self._refresh_live)
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
        known = {Path(run.path) for run in message.catalog.runs}
        self.marked = [path for path in self.marked if path in known]
        self._fill_table()

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

    def _visible(self) -> list[tuple[str, list[RunInfo], ExperimentEntry | None]]:
        """Experiments, each with its runs, filtered and sorted."""
        catalog = self.catalog
        if catalog is None:
            return []
        needle = self.filter_text.strip().lower()
        groups: list[tuple[str, list[RunInfo], ExperimentEntry | None]] = []
        for name in catalog.experiment_names():
            entry = catalog.entry_named(name)
            runs = list(catalog.runs_of(name))
            if needle and needle not in _experiment_words(name, entry):
                runs = [run for run in runs if needle in _run_words(run)]
                if not runs:
                    continue
            groups.append((name, self._sorted_runs(runs, entry), entry))
        return self._sorted_groups(groups)

    def _sorted_runs(self, runs: list[RunInfo], entry: ExperimentEntry | None) -> list[RunInfo]:
        mode = self.sort_mode
        if mode == "best":
            sign = -1.0 if _higher_is_better(entry) else 1.0
            return sorted(
                runs, key=lambda r: (r.best is None, sign * r.best if r.best is not None else 0.0)
            )
        if mode == "status":
            return sorted(runs, key=lambda r: (STATE_ORDER.get(r.state, 9), -(r.created or 0)))
        if mode == "name":
            return sorted(runs, key=lambda r: r.run_id)
        return sorted(runs, key=lambda r: -(r.created or 0))

    def _sorted_groups(
        self, groups: list[tuple[str, list[RunInfo], ExperimentEntry | None]]
    ) -> list[tuple[str, list[RunInfo], ExperimentEntry | None]]:
        if self.sort_mode == "name":
            return sorted(groups, key=lambda g: g[0].lower())
        if self.sort_mode == "status":
            return sorted(
                groups,
                key=lambda g: (min((STATE_ORDER.get(r.state, 9) for r in g[1]), default=9), g[0]),
            )
        # newest (and best): the experiment with the latest activity first.
        return sorted(
            groups,
            key=lambda g: (-max((r.created or 0 for r in g[1]), default=0), g[0].lower()),
        )

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_key
        table.clear()
        self._rows = {}
        now = self._now()
        muted = self._style("foreground-muted")
        for name, runs, entry in self._visible():
            key = f"exp:{name}"
            self._rows[key] = name
            folded = name in self.collapsed
            arrow = "▸" if folded else "▾"
            label = Text(f"{arrow} {name}", style="bold")
            if entry is None:
                status = Text("no file", style=muted)
            elif not entry.valid:
                status = Text("invalid", style=self._style("error"))
            else:
                status = Text(f"{len(runs)} run{'s' if len(runs) != 1 else ''}", style=muted)
            latest = max((r.created for r in runs if r.created), default=None)
            best = _best_of(runs, entry)
            table.add_row(
                label,
                status,
                format_age(now - latest if latest else None),
                format_value(best),
                "",
                "",
                key=key,
            )
            if folded:
                continue
            for run in runs:
                run_key = f"run:{run.path}"
                self._rows[run_key] = run
                mark = "◆" if run.path in self.marked else " "
                colour = self._style(STATE_COLOURS.get(run.state, "foreground"))
                table.add_row(
                    Text(f"  {mark} {run.run_id}"),
                    Text(run.state, style=colour),
                    format_age(now - run.created if run.created else None),
                    format_value(run.best),
                    _format_progress(run),
                    run.device or "-",
                    key=run_key,
                )
        if not self._rows:
            self._show_empty()
        if selected in self._rows:
            table.move_cursor(row=table.get_row_index(selected), scroll=False)
        self._show_details()

    def _show_empty(self) -> None:
        if self.filter_text:
            text = f"Nothing matches “{self.filter_text}”. Press escape to clear the filter."
        else:
            text = (
                f"No experiments in {self.experiments_dir} and no runs in {self.runs_dir}.\n\n"
                "Press [b]n[/b] to build a new experiment from a template, or write a TOML file "
                f"into {self.experiments_dir}/ — it appears here by itself."
            )
        self.query_one("#details-body", Static).update(text)

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
            return row.experiment
        return row

    def selected_entry(self) -> ExperimentEntry | None:
        """The experiment file of the selection, if there is one."""
        name = self.selected_experiment
        if name is None or self.catalog is None:
            return None
        return self.catalog.entry_named(name)

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
        run = self.selected_run
        if run is not None:
            body.update(describe_run(run, self._now()))
            return
        name = self.selected_experiment
        if name is None:
            return
        entry = self.catalog.entry_named(name) if self.catalog else None
        runs = list(self.catalog.runs_of(name)) if self.catalog else []
        if entry is None:
            body.update(
                f"[b]{name}[/b]\n\n[$text-muted]No experiment file named {name} in "
                f"{self.experiments_dir}; {len(runs)} recorded run(s).[/]"
            )
            return
        summary: str | None = ""
        if entry.shown is not None and getattr(self.app, "layer_tables", True):
            summary = self._summaries.get((entry.path, entry.stamp))
            if summary is None:
                self._summarize(entry)
        body.update(describe_experiment(entry, runs, summary))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _summarize(self, entry: ExperimentEntry) -> None:
        from dltui.tui.screens.describe import layer_table

        # Imports torch (on this worker only): shapes and parameter counts on the meta device.
        text = layer_table(entry.shown)
        self.app.call_from_thread(self._summary_ready, entry, text)

    def _summary_ready(self, entry: ExperimentEntry, text: str) -> None:
        self._summaries[(entry.path, entry.stamp)] = text
        if self.selected_experiment == entry.name and self.selected_run is None:
            self._show_details()

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
                self.notify(f"{name} has no runs yet: press r to start one.", timeout=4)
                return
            run = runs[0]
        if run.state == "broken":
            # Nothing to show in a run view: say why instead (the reason is plain text).
            self.notify(
                f"Run {run.run_id} is broken: {run.reason}", severity="warning", markup=False
            )
            return
        self.post_message(OpenRun(run.path))

    def action_mark(self) -> None:
        """Mark or unmark the selected run for comparing."""
        run = self.selected_run
        if run is None:
            return
        if run.path in self.marked:
            self.marked.remove(run.path)
        else:
            self.marked.append(run.path)
        table = self.query_one(DataTable)
        mark = "◆" if run.path in self.marked else " "
        table.update_cell(f"run:{run.path}", "name", Text(f"  {mark} {run.run_id}"))
        table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the marked runs, or the runs of the selected experiment."""
        paths = list(self.marked)
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
        """Start training the selected experiment (it must be valid)."""
        entry = self.selected_entry()
        if entry is None:
            self.notify("Select an experiment with a file to run it.", severity="warning")
            return
        if not entry.valid:
            self.notify(
                "\n".join(entry.problems[:5]),
                title=f"{entry.path.name} is invalid",
                severity="error",
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
        """Delete the marked runs (or the selected one) after asking; live runs are refused."""
        if self.catalog is None:
            return
        by_path = {run.path: run for run in self.catalog.runs}
        if self.marked:
            runs = [by_path[path] for path in self.marked if path in by_path]
        else:
            runs = [self.selected_run] if self.selected_run is not None else []
        if not runs:
            self.notify(
                "Select a run, or mark runs with space, to delete them.", severity="warning"
            )
            return
        live = [run for run in runs if run.alive]
        if live:
            names = ", ".join(run.run_id for run in live)
            self.notify(
                f"Not deleting live run{'s' if len(live) > 1 else ''} {names}: stop "
                f"{'them' if len(live) > 1 else 'it'} first (S).",
                severity="warning",
                timeout=6,
            )
        runs = [run for run in runs if not run.alive]
        if runs:
            self._measure_for_delete(runs)

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def _measure_for_delete(self, runs: list[RunInfo]) -> None:
        from dltui.runs.removal import run_disk_usage

        size = sum(run_disk_usage(run.path) for run in runs)
        self.app.call_from_thread(self._confirm_delete, runs, size)

    def _confirm_delete(self, runs: list[RunInfo], size: int) -> None:
        from dltui.tui.plotting.axis import format_bytes
        from dltui.tui.screens.confirm import ConfirmDialog

        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        listed = [f"  {run.experiment}/{run.run_id}  ({run.state})" for run in runs[:_MAX_LISTED]]
        if len(runs) > _MAX_LISTED:
            listed.append(f"  … and {len(runs) - _MAX_LISTED} more")
        message = "\n".join(
            [
                *listed,
                "",
                f"{count}, {format_bytes(size)} on disk, from {self.runs_dir}.",
                f"The folder{'s are' if len(runs) != 1 else ' is'} removed for good: no undo.",
            ]
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._delete_runs([run.path for run in runs])

        self.app.push_screen(ConfirmDialog(f"Delete {count}?", message, "Delete"), answered)

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
            names = ", ".join(path.name for path in removed[:3])
            more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
            self.notify(f"Deleted {names}{more} ({format_bytes(freed)}).", timeout=4)
        if errors:
            self.notify("\n".join(errors[:5]), title="Not deleted", severity="error", timeout=12)
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
        """Open the builder on a new experiment from a template."""
        self._open_builder(None)

    def action_edit(self) -> None:
        """Open the builder on the selected experiment's file."""
        entry = self.selected_entry()
        if entry is not None:
            self._open_builder(entry.path)

    def _open_builder(self, path: Path | None) -> None:
        try:
            from dltui.tui.builder import BuilderScreen
        except ImportError as exc:
            self.notify(f"The builder is not available: {exc}", severity="error")
            return
        self.app.push_screen(BuilderScreen(self.experiments_dir, path=path))

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
        self.query_one("#title", Static).update(self._title())
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


def _experiment_words(name: str, entry: ExperimentEntry | None) -> str:
    words = [name]
    if entry is not None:
        words.append(entry.path.name)
        shown = entry.shown
        if shown is not None:
            words.extend(shown.tags)
            words.append(shown.description)
        if not entry.valid:
            words.append("invalid")
    return " ".join(words).lower()


def _run_words(run: RunInfo) -> str:
    return " ".join([run.run_id, run.state, run.device or ""]).lower()


def _higher_is_better(entry: ExperimentEntry | None) -> bool:
    shown = entry.shown if entry is not None else None
    if shown is None or shown.early_stopping is None:
        return False
    return shown.early_stopping.resolved_mode == "max"


def _best_of(runs: list[RunInfo], entry: ExperimentEntry | None) -> float | None:
    values = [r.best for r in runs if r.best is not None and r.best == r.best]
    if not values:
        return None
    return max(values) if _higher_is_better(entry) else min(values)


def _format_progress(run: RunInfo) -> str:
    if run.epoch is not None:
        return f"{run.epoch:.1f}"
    if run.step is not None:
        return f"s{run.step}"
    return "-"
