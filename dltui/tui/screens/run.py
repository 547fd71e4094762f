"""The run view: one run's panes (curves, overview, early stopping, gradients, system, output,
samples, the confusion matrix).

Large terminals show every pane at once in a grid; below 120x32 (or after
`z`) one pane fills the screen and the tab line says which. The app reads the
run's history before the screen is built (`RunRead`), so the first paint
already shows it. A plain thread (`RunFollower`) then polls the run's reader
and posts a self-replacing `RunUpdated` (at most about seven a second); each
pane redraws only if its data changed, and only the title and the overview's
facts show a heartbeat's new step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Container
from textual.markup import escape
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from dltui.run_format import RESUMABLE_STATES
from dltui.safe_text import printable
from dltui.tui.commands import PANE_SHORT_TITLES, PANE_TITLES, RUN
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import DirectoryChanged, ResumeRequest, RunUpdated, StopRequest
from dltui.tui.plotting.axis import format_epoch
from dltui.tui.screens.curve_controls import CurveControls
from dltui.tui.screens.dashboard_screen import DashboardScreen
from dltui.tui.screens.run_list import STATE_COLOURS
from dltui.tui.screens.run_panes import PANE_IDS, CurvesPane, make_pane
from dltui.tui.sources import tool_of_source
from dltui.tui.sweep_catalog import sweep_trial
from dltui.tui.widgets import SamplePane
from dltui.tui.widgets.changes import target_epochs
from dltui.tui.widgets.overview_pane import latest_progress
from dltui.tui.widgets.run_pane import RunPane
from dltui.tui.widgets.tab_line import TabLine

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.plotting.series import XAxis
    from dltui.tui.watch import RunFollower

PANES: tuple[tuple[str, str], ...] = tuple(zip(PANE_IDS, PANE_TITLES, strict=True))
"""Pane ids and titles, in tab (and number-key) order."""


_SINGLE_ONLY = frozenset({"samples", "confusion"})
"""Panes shown only one at a time (the grid has six cells; a sample or a matrix needs the
room of the screen)."""

_WIDE = (120, 32)
"""Smallest terminal (columns, rows) that shows every pane at once."""


_CURVE_ACTIONS = frozenset(
    {
        "cursor",
        "next_plots",
        "move_cursor",
        "raw",
        "smoothing",
        "smooth_less",
        "smooth_more",
        "log_scale",
        "x_axis",
    }
)
"""Actions that act on the curves: offered only while the curves are in view."""


def _cells(markup: str) -> int:
    """How many cells ``markup`` takes on screen."""
    from textual.content import Content

    return Content.from_markup(markup).cell_length


class RunScreen(CurveControls, DashboardScreen):
    """Everything about one run, live while it trains."""

    CSS_PATH = "run.tcss"
    SCOPE = RUN
    BINDINGS: ClassVar = RUN.bindings()

    active_pane: reactive[str] = reactive("curves")
    zoomed: reactive[bool] = reactive(False)
    smoothing: reactive[float] = reactive(0.6)
    smoothing_on: reactive[bool] = reactive(True)
    log_y: reactive[bool] = reactive(False)
    x_axis: reactive[XAxis] = reactive("step")
    show_raw: reactive[bool] = reactive(True)
    cursor_on: reactive[bool] = reactive(False)

    def __init__(self, run_dir: Path, reader: RunSource) -> None:
        """``reader`` has read the run's history already (see `DashboardApp`)."""
        super().__init__()
        self.run_dir = Path(run_dir)
        self.reader = reader
        self.follower: RunFollower | None = None
        self.updates = 0
        """How many `RunUpdated` messages were applied (tests and the benchmark read it)."""
        self._shown_actions = (False, False)
        self._shown_title: tuple[str, int] = ("", 0)
        self._panes: list[RunPane] = []
        self.tool = tool_of_source(reader)
        """The other tool that logged the run (None: one of dltui's own)."""
        self.trial = sweep_trial(reader.meta) if self.tool is None else None
        """The sweep trial the run is (None: a run of its own)."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Title line, tab bar, the panes, footer."""
        yield Static(self._title(self.app.size.width - 2), id="run-title")
        yield TabLine([title for _, title in PANES], short=list(PANE_SHORT_TITLES), id="run-tabs")
        with Container(id="panes"):
            for pane_id, title in PANES:
                # Each pane is one widget that draws its own border and title.
                pane = make_pane(pane_id, self.reader)
                pane.border_title = title
                if isinstance(pane, RunPane):
                    self._panes.append(pane)
                yield pane
        yield KeyFooter()

    def on_mount(self) -> None:
        """Lay out, fill the panes, and follow the run."""
        from dltui.tui.watch import RunFollower

        self._apply_layout()
        self._refresh(None)
        interval = self.dashboard.follow_interval
        follower = RunFollower(
            self.reader,
            self._post_update,
            interval=interval,
            backlog=lambda: self.message_queue_size,
        )
        self.follower = follower
        follower.start()

    def on_unmount(self) -> None:
        """Stop following the run."""
        if self.follower is not None:
            self.follower.stop()
            self.follower = None

    def on_resize(self) -> None:
        """Switch between the grid and one pane at a time; refit the title."""
        self._apply_layout()
        if self.is_mounted:
            self._update_title()

    @property
    def single(self) -> bool:
        """Whether one pane fills the view (small terminal, or zoomed)."""
        width, height = self.size
        # Samples (generated text or points) have no cell in the grid: they get the screen.
        grid_less = self.active_pane in _SINGLE_ONLY
        return self.zoomed or grid_less or width < _WIDE[0] or height < _WIDE[1]

    def _apply_layout(self) -> None:
        self.set_class(self.single, "-single")
        for pane_id, _ in PANES:
            pane = self.query_one(f"#pane-{pane_id}")
            pane.set_class(pane_id == self.active_pane, "-active")

    def watch_active_pane(self, pane_id: str) -> None:
        """Show (or highlight) the chosen pane and its tab; its keys join the footer."""
        if not self.is_mounted:
            return
        self.query_one(TabLine).active = [pid for pid, _ in PANES].index(pane_id)
        self._apply_layout()
        self.refresh_bindings()

    def watch_zoomed(self) -> None:
        """Zooming changes the layout (and which keys apply)."""
        if self.is_mounted:
            self._apply_layout()
            self.refresh_bindings()

    @on(TabLine.Chosen)
    def _tab_chosen(self, event: TabLine.Chosen) -> None:
        self.active_pane = PANES[event.index][0]

    def _title(self, width: int | None = None) -> str:
        """The title line's markup: the run, its state and progress, the plot settings.

        The plot settings always show. When the line is too long for ``width``, it is
        written more tightly, then the step, the run id and the experiment's name are left
        out in turn (all are in the Overview pane); only then does it take a second line.
        """
        experiment = escape(printable(self.run_dir.parent.name, keep_newlines=False))
        run_id = escape(printable(self.run_dir.name, keep_newlines=False))
        status = self.reader.status
        colour = STATE_COLOURS.get(status.state, "foreground")
        state = f"[${colour}]{escape(printable(status.state, keep_newlines=False))}[/]"
        epoch, step = latest_progress(self.reader)
        epochs = target_epochs(self.reader)
        progress = ""
        if epoch is not None:
            progress = format_epoch(epoch)
            if epochs is not None:
                progress += f"/{epochs}"
        steps = f"step {step:,}" if step is not None else ""
        trial = tight_trial = ""
        if self.trial is not None:
            trial = f"[$accent]{escape(self.trial.title)}[/]"
            tight_trial = f"[$accent]trial #{self.trial.number}[/]"
        smooth = f"smooth {self.smoothing:g}" if self.smoothing_on else "smooth off"
        scale = "log y" if self.log_y else "linear y"
        settings = f"[$text-muted]{smooth} · {scale} · x: {self.x_axis}[/]"
        tight = f"[$text-muted]{smooth}·{scale}·x:{self.x_axis}[/]"
        # A trial says so in every variant: which trial of which sweep it is; the step and
        # the experiment's name give way first, then the sweep's name (the Overview has it).
        variants = [
            (
                f"[b]{experiment}[/b] / {run_id}",
                trial,
                state,
                progress and f"epoch {progress}",
                steps,
                settings,
                "  ",
            ),
            (
                f"[b]{experiment}[/b]/{run_id}",
                trial,
                state,
                progress and f"ep {progress}",
                steps,
                tight,
                " ",
            ),
            (
                f"[b]{experiment}[/b]/{run_id}",
                trial,
                state,
                progress and f"ep {progress}",
                "",
                tight,
                " ",
            ),
            # The experiment says more than the run id (a timestamp, in the Overview).
            (f"[b]{experiment}[/b]", trial, state, progress and f"ep {progress}", "", tight, " "),
            (
                f"[b]{experiment}[/b]",
                tight_trial,
                state,
                progress and f"ep {progress}",
                "",
                tight,
                " ",
            ),
            (run_id, tight_trial, state, progress and f"ep {progress}", "", tight, " "),
        ]
        for *parts, gap in variants:
            line = gap.join(part for part in parts if part)
            if width is None or _cells(line) <= width:
                return line
        # Narrower still: the settings on a line of their own.
        first = (f"[b]{experiment}[/b]", tight_trial, state, progress and f"ep {progress}")
        return " ".join(part for part in first if part) + "\n" + settings

        # -- reading and following ------------------------------------------------------------

    def _post_update(self, changes: RunChanges) -> None:
        # Runs on the follower's thread.
        self.post_message(RunUpdated(self.run_dir, changes))

    @on(RunUpdated)
    def _run_updated(self, message: RunUpdated) -> None:
        if message.run_dir == self.run_dir:
            self._refresh(message.changes)
            self.updates += 1

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        # The follower already sees this run's files; nothing else here depends on the folders.
        pass

    def _refresh(self, changes: RunChanges | None) -> None:
        """Hand the run to every pane (each redraws only if its data changed)."""
        source = self.reader
        lock = self.follower.lock if self.follower is not None else None
        if lock is not None:
            lock.acquire()
        try:
            # The panes are composed once and never replaced.
            for pane in self._panes:
                pane.update_from(source, changes)
        finally:
            if lock is not None:
                lock.release()
        self._update_title()
        actions = (bool(self.check_action("stop", ())), bool(self.check_action("resume", ())))
        if actions != self._shown_actions:
            # Only when stop/resume availability changed: the footer recomposes (and the
            # screen is laid out again) on every refresh of the bindings.
            self._shown_actions = actions
            self.refresh_bindings()

    def _update_title(self) -> None:
        widget = self.query_one("#run-title", Static)
        width = widget.content_size.width or self.size.width - 2
        title = self._title(width)
        lines = title.count("\n") + 1
        if (title, lines) != self._shown_title:
            relayout = lines != self._shown_title[1]
            self._shown_title = (title, lines)
            # Usually one line: repaint it without laying the screen out again.
            widget.update(title, layout=relayout)

    def _replot(self) -> None:
        """Push the plot settings down to the curve plots."""
        for pane in self.query(CurvesPane):
            pane.set_options(
                smoothing=self.smoothing if self.smoothing_on else 0.0,
                log_y=self.log_y,
                x_axis=self.x_axis,
                show_raw=self.show_raw,
            )
        self._update_title()

    def watch_smoothing(self) -> None:
        """Plot settings flow down to the plots."""
        if self.is_mounted:
            self._replot()

    watch_smoothing_on = watch_smoothing
    watch_log_y = watch_smoothing
    watch_x_axis = watch_smoothing
    watch_show_raw = watch_smoothing

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys apply now: stop while the run is alive, resume once it has ended,
        the cursor and plot pages while the curves show, older/newer on the samples."""
        if action == "move_cursor":
            # Only while the cursor shows: otherwise the arrows are the focused widget's.
            return self.cursor_on and self._curves_shown
        if action == "next_plots":
            return self._curves_pages > 1
        if action in ("older_sample", "newer_sample"):
            samples = self.query(SamplePane)  # another tool's run has no SamplePane
            return self.active_pane == "samples" and bool(samples) and samples.first().count > 1
        if action == "open_sweep":
            return self.trial is not None  # a run of its own has no sweep to go to
        if action not in ("stop", "resume"):
            return True
        if self.tool is not None:
            return True  # offered, to say plainly why it does not apply (see action_stop)
        # Textual asks for every binding; only these two need the (pid-probing) status.
        status = self.reader.status
        if action == "stop":
            return status.alive
        return status.state in RESUMABLE_STATES

    @property
    def _curves_shown(self) -> bool:
        """Whether the curves are in view (the grid, or the curves pane alone)."""
        return not self.single or self.active_pane == "curves"

    def footer_hidden_actions(self) -> frozenset[str]:
        """Keys the footer leaves out now: the curve keys while another pane fills the
        view (they still work, and bring the curves back)."""
        return frozenset() if self._curves_shown else _CURVE_ACTIONS

    def _curves_into_view(self) -> None:
        if not self._curves_shown:
            self.active_pane = "curves"

    @property
    def _curves_pages(self) -> int:
        panes = self.query(CurvesPane)
        return panes.first().pages if panes else 1

    def on_curves_pane_pages_changed(self) -> None:
        """The plots take more (or fewer) pages: the footer's `p` key follows."""
        self.refresh_bindings()

    def action_raw(self) -> None:
        """Show or hide the raw lines behind the smoothed ones."""
        self._curves_into_view()
        self.show_raw = not self.show_raw
        state = "shown" if self.show_raw else "hidden"
        self.notify(f"raw lines {state}", timeout=2)

    def action_cursor(self) -> None:
        """Show the cursor on the newest point, or take it away."""
        self._curves_into_view()
        self.cursor_on = not self.cursor_on
        pane = self.query_one(CurvesPane)
        if self.cursor_on:
            pane.move_cursor(0)
        else:
            pane.set_cursor(None)
        self.refresh_bindings()

    def action_move_cursor(self, cells: int) -> None:
        """Move the cursor ``cells`` columns along x in every plot."""
        self.query_one(CurvesPane).move_cursor(cells)

    def action_next_plots(self) -> None:
        """The next page of plots."""
        self._curves_into_view()
        self.query_one(CurvesPane).next_page()

    def action_older_sample(self) -> None:
        """The sample recorded before the one shown."""
        for pane in self.query(SamplePane):
            pane.browse(-1)

    def action_newer_sample(self) -> None:
        """The sample recorded after the one shown."""
        for pane in self.query(SamplePane):
            pane.browse(+1)

    def action_smoothing(self) -> None:
        """Toggle smoothing."""
        self._curves_into_view()
        self.smoothing_on = not self.smoothing_on

    def action_zoom(self) -> None:
        """Maximise the active pane, or show all again."""
        self.zoomed = not self.zoomed

    def _move_pane(self, direction: int) -> None:
        ids = [pid for pid, _ in PANES]
        self.active_pane = ids[(ids.index(self.active_pane) + direction) % len(ids)]

    def action_next_pane(self) -> None:
        """The next pane."""
        self._move_pane(+1)

    def action_previous_pane(self) -> None:
        """The previous pane."""
        self._move_pane(-1)

    def action_show_pane(self, number: int) -> None:
        """Show pane ``number`` (1-based, in tab order)."""
        if 1 <= number <= len(PANES):
            self.active_pane = PANES[number - 1][0]

    def action_stop(self) -> None:
        """Ask the run to stop (another tool's run: say why that does not apply)."""
        if self.tool is not None:
            self._cannot_control("stop")
            return
        self.post_message(StopRequest(self.run_dir))

    def action_resume(self) -> None:
        """Resume the run (another tool's run: say why that does not apply)."""
        if self.tool is not None:
            self._cannot_control("resume")
            return
        self.post_message(ResumeRequest(self.run_dir))

    def _cannot_control(self, action: str) -> None:
        from dltui.tui.sources import cannot_control

        self.notify(cannot_control(self.tool or "", action), severity="warning", timeout=6)

    def action_open_sweep(self) -> None:
        """Go to the sweep this run is a trial of: back to its view when that is what
        opened the run, else its view over this one."""
        from dltui.sweep.records import SWEEP_FILE
        from dltui.tui.messages import OpenSweep
        from dltui.tui.screens.sweep import SweepScreen

        if self.trial is None:  # the key is hidden; the palette may still ask
            self.notify("This run is no trial of a sweep.", severity="warning", timeout=3)
            return
        folder = self.trial.folder(self.run_dir)
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else None
        if isinstance(below, SweepScreen) and below.folder.resolve() == folder.resolve():
            self.dismiss()
            return
        if not (folder / SWEEP_FILE).exists():
            self.notify(
                printable(f"The sweep {self.trial.sweep} of this trial is no longer in "
                          f"{folder.parent}.", keep_newlines=False),
                severity="warning", timeout=5,
            )  # fmt: skip
            return
        self.post_message(OpenSweep(folder))

    def action_back(self) -> None:
        """Back to the browser."""
        self.dismiss()

    def focus_pane_widget(self) -> Widget | None:
        """The active pane's widget (for tests)."""
        return self.query_one(f"#pane-{self.active_pane}")
