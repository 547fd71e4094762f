"""Deleting runs from the browser: what is shown is what goes, after asking, never a live run.

`delete_shown_runs` is the browser's ``D``: the marked runs in view, or else the
selected one. Their size is measured on a worker, the person is asked
(`ConfirmDialog`, naming the runs, their size and the folder), the folders are
removed on a worker (`dltui.runs.removal`, which refuses live runs itself) and
the cursor moves to a run that stays.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.safe_text import printable
from dltui.tui.messages import DirectoryChanged
from dltui.tui.screens.run_list import delete_question

if TYPE_CHECKING:
    from dltui.runs.discovery import RunInfo
    from dltui.tui.screens.browser import BrowserScreen

_GROUP = "delete"


def delete_shown_runs(browser: BrowserScreen) -> None:
    """Delete the marked runs in view (or else the selected one) after asking.

    Marked runs that the filter or a folded experiment hides are left alone:
    what is deleted is always what the person sees. Live runs are refused.
    """
    if browser.catalog is None:
        return
    by_path = {run.path: run for run in browser.visible_runs()}
    marked = browser.marked_visible()
    selected = browser.selected_run
    runs = [by_path[path] for path in marked] if marked else [selected] if selected else []
    if not runs:
        browser.notify("Select a run, or mark runs with space, to delete them.", severity="warning")
        return
    foreign = [run for run in runs if run.source]
    if foreign:
        from dltui.tui.sources import cannot_delete

        browser.notify(cannot_delete(len(foreign)), severity="warning", timeout=6, markup=False)
        runs = [run for run in runs if not run.source]
    live = [run for run in runs if run.alive]
    if live:
        names = ", ".join(printable(run.run_id, keep_newlines=False) for run in live)
        browser.notify(
            f"Not deleting live run{'s' if len(live) > 1 else ''} {names}: stop "
            f"{'them' if len(live) > 1 else 'it'} first (S).",
            severity="warning",
            timeout=6,
            markup=False,
        )
    runs = [run for run in runs if not run.alive]
    if runs:
        hidden = len(browser.marked) - len(marked)
        browser.run_worker(
            partial(_measure, browser, runs, hidden),
            thread=True, exclusive=True, group=_GROUP, exit_on_error=False,
        )  # fmt: skip


def _measure(browser: BrowserScreen, runs: list[RunInfo], hidden: int) -> None:
    # On a worker: a run's folder may hold gigabytes of checkpoints.
    from dltui.runs.removal import run_disk_usage

    size = sum(run_disk_usage(run.path) for run in runs)
    browser.app.call_from_thread(_confirm, browser, runs, size, hidden)


def _confirm(browser: BrowserScreen, runs: list[RunInfo], size: int, hidden: int) -> None:
    from dltui.tui.screens.confirm import ConfirmDialog

    def answered(confirmed: bool | None) -> None:
        if confirmed:
            paths = [run.path for run in runs]
            browser.run_worker(
                partial(_delete, browser, paths),
                thread=True, exclusive=True, group=_GROUP, exit_on_error=False,
            )  # fmt: skip

    title, text = delete_question(runs, size, hidden, browser.runs_dir)
    browser.app.push_screen(ConfirmDialog(title, text, "Delete"), answered)


def _delete(browser: BrowserScreen, paths: list[Path]) -> None:
    # On a worker.
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
    browser.app.call_from_thread(_deleted, browser, removed, freed, errors)


def _deleted(browser: BrowserScreen, removed: list[Path], freed: int, errors: list[str]) -> None:
    from dltui.tui.plotting.axis import format_bytes

    gone = set(removed)
    browser.marked = [path for path in browser.marked if path not in gone]
    _select_survivor(browser, gone)
    if removed:
        names = ", ".join(printable(path.name, keep_newlines=False) for path in removed[:3])
        more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
        browser.notify(f"Deleted {names}{more} ({format_bytes(freed)}).", timeout=4,
                       markup=False)  # fmt: skip
    if errors:
        browser.notify(printable("\n".join(errors[:5])), title="Not deleted", severity="error",
                       timeout=12, markup=False)  # fmt: skip
    browser.post_message(DirectoryChanged("runs", browser.runs_dir, frozenset(removed)))


def _select_survivor(browser: BrowserScreen, gone: set[Path]) -> None:
    """Move the cursor off deleted runs, to the next row that stays (or the one before)."""
    from dltui.runs.discovery import RunInfo

    table = browser.table
    rows = {row.key: row.item for row in table.listed}
    keys = list(rows)
    selected = table.selected_key
    if selected is None or selected not in rows:
        return
    item = rows[selected]
    if not isinstance(item, RunInfo) or item.path not in gone:
        return
    index = keys.index(selected)
    for key in [*keys[index + 1 :], *reversed(keys[:index])]:
        candidate = rows[key]
        if not isinstance(candidate, RunInfo) or candidate.path not in gone:
            table.select(key, scroll=False)
            return
