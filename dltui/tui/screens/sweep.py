"""The sweep view: a sweep's trials, how the search went, and what mattered.

Four tabs: the trials table (sorted by any column, the best starred; on a tall
terminal the progress plot sits under it), the objective against the trial
number with the best so far, the objective against each varied value (a page
of plots at a time), and Optuna's parameter importances. The study is read on
a worker (`dltui.sweep.report.read_sweep` imports Optuna) and read again when
the sweep's folder or one of its trials' runs changes, and every two seconds
while the sweep is live (heartbeats and running trials say so, not the folder).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container, Grid, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, DataTable, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dltui.run_format import META
from dltui.safe_text import printable
from dltui.tui.commands import SWEEP, SWEEP_TABS
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import (
    CompareRuns,
    DirectoryChanged,
    OpenRun,
    SweepResumeRequest,
    SweepStopRequest,
)
from dltui.tui.screens.dashboard_screen import DashboardScreen
from dltui.tui.screens.sweep_plots import importance_lines, param_plot, progress_traces
from dltui.tui.screens.sweep_table import TrialTable
from dltui.tui.screens.sweep_trials import trial_cells, trial_columns, trial_counts
from dltui.tui.screens.table_cursor import TableCursorKeys
from dltui.tui.sweep_catalog import sweep_label
from dltui.tui.widgets.sweep_plot import SweepPlot
from dltui.tui.widgets.tab_line import TabLine
from dltui.tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from dltui.sweep.report import SweepReport

TAB_IDS = ("trials", "progress", "parameters", "importances")
"""The tabs' pane ids, in the order of `SWEEP_TABS`."""

_LIVE_REFRESH_S = 2.0
_RANK_EVERY_S = 15.0
"""While the importances are not in view, how often a live sweep's are worked out again."""
_RESUME_GRACE_S = 30.0
"""How long after R the sweep is read every 2 s while its new worker starts."""
_TICK_S = 0.5
"""How often a change seen in the sweep's files may start a reading (never two at once)."""
_MAX_COMPARE = 8
_BEST_COMPARED = 5
_PLOT_MIN_WIDTH = 48
_PLOT_MIN_HEIGHT = 9
_TALL = 36
"""Rows from which the trials tab shows the progress plot under the table."""


class SweepScreen(TableCursorKeys, ReportsWorkerErrors, DashboardScreen):
    """One sweep: its trials table, its plots and its parameter importances, live."""

    CSS_PATH = "sweep.tcss"
    SCOPE = SWEEP
    BINDINGS: ClassVar = SWEEP.bindings()
    AUTO_FOCUS = "#sweep-trials"

    active_tab: reactive[int] = reactive(0)

    @dataclass
    class SweepRead(Message):
        """A worker read the sweep's study (a newer reading replaces a queued one)."""

        report: SweepReport | None
        problem: str | None
        ranked: bool = False
        """Optuna's importances were worked out for this reading."""
        final: bool = True
        """The reading's last message (a second, ranked one may follow a first)."""

        def can_replace(self, message: Message) -> bool:
            """Only the newest reading matters."""
            return isinstance(message, SweepScreen.SweepRead)

    def __init__(self, folder: Path) -> None:
        """The sweep kept in ``folder`` (``runs/<experiment>/sweeps/<name>``)."""
        super().__init__()
        self.folder = Path(folder)
        self.report: SweepReport | None = None
        self.sort_key = "#"
        self.descending = False
        self.marked: list[int] = []
        self.page = 0
        self.reads = 0
        """How many readings were shown (tests wait on it)."""
        self._reading = False
        self._dirty = False
        self._last_read = 0.0
        self._last_ranked = 0.0
        self._problem_said: str | None = None
        self._live_until = 0.0
        """Until when the sweep is read as live though no worker says so yet (a resume
        was asked for: its process takes a moment to start)."""
        self._ranked_for: int | None = None
        """How many trials had finished when the importances shown were worked out."""

    def compose(self) -> ComposeResult:
        """Title line, tabs, the four panes, the footer."""
        yield Static("Reading the sweep…", id="sweep-title", markup=False)
        yield TabLine(list(SWEEP_TABS), id="sweep-tabs")
        with ContentSwitcher(initial="trials", id="sweep-panes"):
            with Container(id="trials"):
                yield TrialTable(id="sweep-trials")
                yield Static("", id="sweep-hidden", markup=False)
                yield SweepPlot("objective by trial", id="sweep-progress-small")
            yield SweepPlot("objective by trial", id="progress")
            yield Grid(id="parameters")
            with VerticalScroll(id="importances"):
                yield Static("", id="sweep-importances", markup=False)
        yield KeyFooter()

    @property
    def table(self) -> TrialTable:
        """The trials table."""
        return self.query_one(TrialTable)

    def on_mount(self) -> None:
        """Read the study, and keep it fresh while the sweep is live."""
        self._layout()
        self.reload()
        self.set_interval(_TICK_S, self._tick)

    def on_resize(self) -> None:
        """Show the progress plot under the table on tall terminals; re-page the plots;
        fit the table's columns to the new width."""
        self._layout()
        self._show_params()
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        report = self.report
        if report is None or not self.is_mounted:
            return
        self.query_one("#sweep-title", Static).update(self._title(report))
        self._show_table(report)

    def _layout(self) -> None:
        self.set_class(self.size.height >= _TALL, "-tall")

    # -- reading ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the sweep again on a worker (after the reading in progress, if one is)."""
        if self._reading:
            self._dirty = True
            return
        self._reading, self._dirty = True, False
        self._last_read = now = time.monotonic()
        # Optuna's ranking fits a forest (most of a reading's cost): worked out again when
        # another trial finished, and while they are out of view at most every 15 s.
        in_view = TAB_IDS[self.active_tab] == "importances"
        may_rank = self._ranked_for is None or in_view or now - self._last_ranked >= _RANK_EVERY_S
        self._read(self._ranked_for, may_rank)

    @work(thread=True, exclusive=True, group="sweep-read", exit_on_error=False)
    def _read(self, ranked_for: int | None, may_rank: bool) -> None:
        from dltui.sweep.report import importances_of, load_sweep, open_sweep_folder

        try:
            folder = open_sweep_folder(self.folder)
        except ValueError as error:
            self.post_message(self.SweepRead(None, str(error)))
            return
        report, study = load_sweep(folder)
        finished = report.counts().get("finished", 0)
        rank = study is not None and may_rank and finished != ranked_for
        rank = rank and not get_current_worker().is_cancelled
        self.post_message(self.SweepRead(report, report.problem, final=not rank))
        if rank:  # shown once it is ready: the table does not wait for it
            ranked = replace(report, importances=importances_of(report, study))
            self.post_message(self.SweepRead(ranked, ranked.problem, ranked=True))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A reading that failed (reported) or was cancelled lets the next one start."""
        super().on_worker_state_changed(event)
        failed = event.state in (WorkerState.ERROR, WorkerState.CANCELLED)
        if event.worker.group == "sweep-read" and failed:
            self._reading = False

    @on(SweepRead)
    def _sweep_read(self, message: SweepRead) -> None:
        if message.final:
            self._reading = False
        if message.report is None:
            self.query_one("#sweep-title", Static).update(printable(message.problem or ""))
            return
        old = self.report
        report = message.report
        if message.ranked:
            self._ranked_for = report.counts().get("finished", 0)
            self._last_ranked = time.monotonic()
        elif old is not None:
            report.importances = old.importances  # until they are worked out again
        self.report = report
        self.reads += 1
        if report.folder.state == "running":
            self._live_until = 0.0  # the resumed sweep's worker says so itself now
        self._show()
        if old is None or old.folder.state != report.folder.state:
            self.refresh_bindings()  # stop and resume follow the sweep's state

    def _tick(self) -> None:
        # Trials write their events ten times a second: changes are gathered and read at
        # most once per tick, one reading at a time. A live sweep is read every two
        # seconds anyway (a worker's heartbeat and a trial's epochs are not in the folder).
        if self._reading or self.app.screen is not self:
            return
        report = self.report
        live = report is None or report.folder.state in ("running", "starting")
        live = live or time.monotonic() < self._live_until
        due = live and time.monotonic() - self._last_read >= _LIVE_REFRESH_S
        if self._dirty or due:
            self.reload()

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        if message.kind != "runs" or self.app.screen is not self:
            return
        # The watcher names paths as its root was given, the supervisor a resumed sweep's
        # folder resolved: compared as absolute paths, both name the same folder.
        folder = _absolute(self.folder)
        runs = (
            {_absolute(t.run_dir) for t in self.report.trials if t.run_dir}
            if self.report
            else set()
        )
        for named in message.paths or {self.folder}:
            path = _absolute(named)
            if path == folder or folder in path.parents:
                self._dirty = True
                return
            if any(path == run or run in path.parents for run in runs):
                self._dirty = True
                return

    def on_screen_resume(self) -> None:
        """Catch up when shown again (a trial's run view was on top)."""
        self.reload()

    # -- showing ----------------------------------------------------------------------------

    def _show(self) -> None:
        report = self.report
        if report is None:
            return
        self.query_one("#sweep-title", Static).update(self._title(report))
        self.marked = [n for n in self.marked if any(t.number == n for t in report.trials)]
        self._show_table(report)
        if report.problem and report.problem != self._problem_said:
            self.notify(report.problem, severity="error", timeout=10)  # once, not each reading
        self._problem_said = report.problem
        empty = "no trial yet" if not report.trials else "no finished trial yet"
        for plot_id in ("#progress", "#sweep-progress-small"):
            plot = self.query_one(plot_id, SweepPlot)
            plot.show(
                progress_traces(report),
                title=f"{printable(report.metric, keep_newlines=False)} by trial",
                empty_message=empty,
            )
        self._show_params()
        self._show_importances()

    def _show_table(self, report: SweepReport) -> None:
        best = report.best
        self.table.show(
            report.trials,
            trial_columns(report),
            sort_key=self.sort_key,
            descending=self.descending,
            best=best.number if best is not None else None,
            marked=set(self.marked),
        )
        self._show_hidden()

    def _show_hidden(self) -> None:
        """Under the table, the selected trial's cells of the columns that did not fit."""
        line = self.query_one("#sweep-hidden", Static)
        hidden = self.table.hidden
        line.display = bool(hidden)
        trial = self.table.selected_trial
        if not hidden or trial is None:
            line.update("")
            return
        cells = trial_cells(trial, hidden, time.time())
        parts = [f"{column.name} {cell}" for column, cell in zip(hidden, cells, strict=True)]
        line.update(f"#{trial.number}  " + " · ".join(parts))

    @on(DataTable.RowHighlighted, "#sweep-trials")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_hidden()

    def _title(self, report: SweepReport) -> Content:
        folder = report.folder
        budget = folder.budget
        done = sum(report.counts().get(s, 0) for s in ("finished", "pruned", "failed"))
        of = f"{done}/{budget}" if budget is not None else f"{done}"
        best = report.best
        best_text = ""
        if best is not None and best.value is not None:
            best_text = f" · best #{best.number} {best.value:.4g}"
        goal = "max" if report.maximize else "min"
        # What gives way when the line is too long: the counts by state (the table has
        # them), then the experiment's name, then the objective's name (its column's).
        width = self.query_one("#sweep-title", Static).content_size.width or self.size.width - 2
        forms = [
            "[b]$name[/b] of $experiment · $method · [b]$state[/b] · $done done "
            "($counts) · $goal $metric$best",
            "[b]$name[/b] of $experiment · $method · [b]$state[/b] · $done done · "
            "$goal $metric$best",
            "[b]$name[/b] · $method · [b]$state[/b] · $done done · $goal $metric$best",
            "[b]$name[/b] · $method · [b]$state[/b] · $done done$best",
        ]
        values = dict(
            name=sweep_label(folder.name),
            experiment=printable(folder.experiment, keep_newlines=False),
            method=printable(folder.method, keep_newlines=False),
            state=folder.state,
            done=of,
            counts=trial_counts(report),
            goal=goal,
            metric=printable(report.metric, keep_newlines=False),
            best=best_text,
        )
        for form in forms:
            content = Content.from_markup(form, **values)
            if content.cell_length <= width:
                break
        return content  # the last, if none fits: ellipsised by its style

    def _pages(self) -> tuple[int, int]:
        """(plots per page, pages) for the parameter plots at the current size."""
        grid = self.query_one("#parameters", Grid)
        width = max(grid.size.width, self.size.width - 2)
        height = max(grid.size.height, self.size.height - 5)
        columns = max(1, width // _PLOT_MIN_WIDTH)
        rows = max(1, height // _PLOT_MIN_HEIGHT)
        count = len(self.report.params) if self.report else 0
        per_page = max(1, columns * rows)
        return per_page, max(1, -(-count // per_page))

    def _show_params(self) -> None:
        report = self.report
        if report is None or not self.is_mounted:
            return
        per_page, pages = self._pages()
        self.page %= pages
        paths = report.params[self.page * per_page : (self.page + 1) * per_page]
        grid = self.query_one("#parameters", Grid)
        columns = max(1, min(len(paths), max(1, self.size.width // _PLOT_MIN_WIDTH)))
        grid.styles.grid_size_columns = columns
        plots = list(grid.query(SweepPlot))
        if len(plots) != len(paths):
            grid.remove_children()
            plots = [SweepPlot(classes="param-plot") for _ in paths]
            grid.mount_all(plots)
        for plot, path in zip(plots, paths, strict=True):
            made = param_plot(report, path)
            plot.show(made.traces, title=made.title, log_x=made.log_x, x_ticks=made.x_ticks)
        if pages > 1:
            grid.border_subtitle = f"page {self.page + 1}/{pages} · p: next"
        else:
            grid.border_subtitle = ""

    def _show_importances(self) -> None:
        report = self.report
        if report is None:
            return
        from dltui.sweep.report import MIN_TRIALS_FOR_IMPORTANCE

        finished = report.counts().get("finished", 0)
        width = max(20, self.size.width - 6)
        lines = importance_lines(report, width, finished, MIN_TRIALS_FOR_IMPORTANCE)
        head = "Parameter importances (Optuna's fANOVA: share of the objective's variance)"
        self.query_one("#sweep-importances", Static).update("\n".join([head, "", *lines]))

    # -- tabs -------------------------------------------------------------------------------

    def watch_active_tab(self, index: int) -> None:
        """Show the tab's pane."""
        self.query_one(ContentSwitcher).current = TAB_IDS[index]
        self.query_one(TabLine).active = index
        if TAB_IDS[index] == "trials":
            self.table.focus()
        if TAB_IDS[index] == "parameters":
            self.call_after_refresh(self._show_params)
        if TAB_IDS[index] == "importances" and self.report is not None:
            self.reload()  # brings the ranking up to date now

    @on(TabLine.Chosen)
    def _tab_chosen(self, event: TabLine.Chosen) -> None:
        self.active_tab = event.index

    def action_show_tab(self, number: int) -> None:
        """Show tab ``number`` (from 1)."""
        self.active_tab = max(0, min(len(TAB_IDS) - 1, number - 1))

    def action_next_tab(self) -> None:
        """The next tab."""
        self.active_tab = (self.active_tab + 1) % len(TAB_IDS)

    def action_previous_tab(self) -> None:
        """The previous tab."""
        self.active_tab = (self.active_tab - 1) % len(TAB_IDS)

    def action_next_page(self) -> None:
        """The next page of parameter plots."""
        _, pages = self._pages()
        if self.active_tab != TAB_IDS.index("parameters"):
            self.active_tab = TAB_IDS.index("parameters")
        elif pages > 1:
            self.page = (self.page + 1) % pages
            self._show_params()

    # -- trials -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out stop when the sweep is not live, resume when it cannot be carried on."""
        from dltui.tui.sweep_launch import RESUMABLE

        report = self.report
        if action == "stop":
            return True if report is not None and report.folder.state == "running" else None
        if action == "resume":
            return True if report is not None and report.folder.state in RESUMABLE else None
        return True

    def action_sort(self) -> None:
        """Sort by the next column."""
        if self.report is None:
            return
        # Through the columns in view: a column that did not fit is not sorted by unseen.
        keys = [c.key for c in self.table.shown_columns or trial_columns(self.report)]
        at = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_key = keys[(at + 1) % len(keys)]
        # Numbers read best first: the objective in its good direction, the rest ascending.
        self.descending = self.sort_key == "objective" and self.report.maximize
        self._show()

    def action_reverse(self) -> None:
        """Reverse the order."""
        self.descending = not self.descending
        self._show()

    @on(DataTable.RowSelected, "#sweep-trials")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_trial()

    def action_open_trial(self) -> None:
        """Open the selected trial's run view."""
        trial = self.table.selected_trial
        if trial is None:
            return
        if trial.run_dir is None or not (trial.run_dir / META).exists():
            self.notify(f"Trial {trial.number} has no run to show yet ({trial.state}).",
                        severity="warning", timeout=4)  # fmt: skip
            return
        self.post_message(OpenRun(trial.run_dir))

    def action_mark(self) -> None:
        """Mark or unmark the selected trial, then move down."""
        trial = self.table.selected_trial
        if trial is None:
            return
        if trial.number in self.marked:
            self.marked.remove(trial.number)
        else:
            self.marked.append(trial.number)
        self._show()
        self.table.action_cursor_down()

    def action_compare(self) -> None:
        """Compare the marked trials' runs, or else the best few."""
        report = self.report
        if report is None:
            return
        by_number = {t.number: t for t in report.trials}
        chosen = [by_number[n] for n in self.marked if n in by_number]
        if len(chosen) < 2:
            scored = [t for t in report.trials if t.state == "finished" and t.value is not None]
            sign = -1.0 if report.maximize else 1.0
            chosen = sorted(scored, key=lambda t: sign * (t.value or 0.0))[:_BEST_COMPARED]
        paths = [t.run_dir for t in chosen if t.run_dir is not None and (t.run_dir / META).exists()]
        if len(paths) < 2:
            self.notify("Mark two or more trials with space (or let two finish), then press c.",
                        severity="warning")  # fmt: skip
            return
        self.post_message(CompareRuns(paths[:_MAX_COMPARE]))

    def action_stop(self) -> None:
        """Ask the sweep to stop."""
        self.post_message(SweepStopRequest(self.folder))

    def action_resume(self) -> None:
        """Carry on the sweep (`dltui sweep --resume`), or say why it cannot be."""
        from dltui.tui.sweep_catalog import DONE_STATES
        from dltui.tui.sweep_launch import resume_refusal

        report = self.report
        if report is None:
            self.notify("The sweep has not been read yet.", severity="warning", timeout=3)
            return
        counts = report.counts()
        done = sum(counts.get(state, 0) for state in DONE_STATES)
        name = printable(report.folder.name, keep_newlines=False)
        refusal = resume_refusal(name, report.folder.state, done, report.folder.budget)
        if refusal is not None:
            self.notify(refusal, severity="warning", timeout=5)
            return
        self._live_until = time.monotonic() + _RESUME_GRACE_S
        self.post_message(SweepResumeRequest(self.folder))

    def action_back(self) -> None:
        """Back to the browser."""
        self.dismiss()


def _absolute(path: Path) -> Path:
    """``path`` made absolute without touching the disk (no symlinks followed)."""
    return Path(os.path.abspath(path))
