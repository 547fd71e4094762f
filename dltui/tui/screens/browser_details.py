"""The browser's words: its title line, and `BrowserDetails`, the pane about the selection.

What the pane says is written by `describe` (the experiment, `dltui check`'s
problems and layer tables, or a run); the widget only chooses and shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from dltui.safe_text import printable
from dltui.tui.screens.describe import describe_experiment, describe_run, stack_tables

if TYPE_CHECKING:
    from rich.console import RenderableType

    from dltui.runs.discovery import RunInfo
    from dltui.tui.catalog import ExperimentEntry
    from dltui.tui.screens.describe import ModelReport
    from dltui.tui.sweep_catalog import SweepEntry


_SORT_WORDS = {"best": "best in each experiment"}
"""How the title says an order where its name alone misleads: best values of different
experiments are of different metrics, so experiments keep their order and only their runs
are ranked."""


def browser_title(
    sort_mode: str, marked: int, hidden: int, experiments_dir: Path, runs_dir: Path
) -> Content:
    """The browser's title line: the order, the marks (``hidden`` of them by the filter)
    and the folders."""
    marks = ""
    if marked:
        marks = f"   ◆ {marked} marked" + (f" ({hidden} hidden)" if hidden else "")
        marks += " (c compare, D delete)"
    # The marks first: a long folder path may run past the edge, the count must not.
    return Content.from_markup(
        "[b]dltui[/b]  sort: $sort$marked   experiments: $experiments   runs: $runs",
        experiments=printable(str(experiments_dir), keep_newlines=False),
        runs=printable(str(runs_dir), keep_newlines=False),
        sort=_SORT_WORDS.get(sort_mode, sort_mode),
        marked=marks,
    )


class BrowserDetails(VerticalScroll):
    """The selection's details: a text that wraps to the pane, then the layer tables."""

    def compose(self) -> ComposeResult:
        """The text, then the tables (both empty until something is selected)."""
        yield Static("Reading experiments and runs…", id="details-body")
        yield Static("", id="details-tables")

    def _show(self, body: Content, tables: RenderableType = "") -> None:
        self.query_one("#details-body", Static).update(body)
        self.query_one("#details-tables", Static).update(tables)

    def show_run(self, run: RunInfo, now: float) -> None:
        """A run's state, progress and whereabouts."""
        self._show(describe_run(run, now))

    def show_sweep(self, sweep: SweepEntry, now: float) -> None:
        """A sweep's method, progress, best trial and workers."""
        from dltui.tui.screens.browser_sweeps import describe_sweep

        self._show(describe_sweep(sweep, now))

    def show_experiment(
        self,
        name: str,
        entry: ExperimentEntry | None,
        runs: Sequence[RunInfo],
        report: ModelReport | None,
        *,
        checking: bool,
        folder: Path,
    ) -> None:
        """An experiment (``entry``: its file, None when only runs have its name)."""
        if entry is None and runs and all(run.source for run in runs):
            from dltui.tui.sources import describe_log_folder

            self._show(describe_log_folder(name, runs))
            return
        if entry is None:
            self._show(
                Content.from_markup(
                    "[b]$name[/b]\n\n[$text-muted]No experiment file named $name in "
                    "$folder; $count recorded run(s).[/]",
                    name=printable(name, keep_newlines=False),
                    folder=printable(str(folder), keep_newlines=False),
                    count=len(runs),
                )
            )
            return
        body = describe_experiment(entry, list(runs), report, checking=checking)
        self._show(body, stack_tables(report) if entry.valid else "")

    def show_empty(self, filter_text: str, experiments_dir: Path, runs_dir: Path) -> None:
        """Nothing is listed: why, and what to do."""
        if filter_text:
            text = Content.from_markup(
                "Nothing matches “$needle”. Press escape to clear the filter.",
                needle=printable(filter_text, keep_newlines=False),
            )
        else:
            text = Content.from_markup(
                "No experiments in $experiments and no runs in $runs.\n\n"
                "Press [b]n[/b] to build a new experiment from a template, or write a TOML file "
                "into $experiments/ — it appears here by itself.",
                experiments=printable(str(experiments_dir), keep_newlines=False),
                runs=printable(str(runs_dir), keep_newlines=False),
            )
        self._show(text)
