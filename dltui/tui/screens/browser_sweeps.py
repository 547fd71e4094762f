"""Sweeps in the browser: what the details pane says of one, and starting one with ``w``.

`describe_sweep` is the details of a sweep row; `start_sweep` is the browser's
``w``: the selected experiment's ``[sweep]`` table is described in a question
(`ConfirmDialog`), and a yes posts `SweepLaunchRequest` to the app, which starts
``dltui sweep`` as its own process (`dltui.tui.sweep_launch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

from dltui.safe_text import printable
from dltui.tui.launcher import refusal
from dltui.tui.messages import SweepLaunchRequest
from dltui.tui.screens.run_list import format_age, format_value

if TYPE_CHECKING:
    from dltui.tui.screens.browser import BrowserScreen
    from dltui.tui.sweep_catalog import SweepEntry


def describe_sweep(sweep: SweepEntry, now: float) -> Content:
    """A sweep's method, progress, objective, best trial, workers and folder."""
    from dltui.tui.screens.sweep_trials import format_param, trial_counts

    folder = sweep.folder
    report = sweep.report
    budget = folder.budget
    done = f"{sweep.done} of {budget}" if budget is not None else f"{sweep.done}"
    counts = trial_counts(report) if report is not None else "not read yet"
    maximize = bool(folder.info.get("maximize"))
    lines = [
        "[b]sweep $name[/b] of $experiment",
        "",
        "$method search · [b]$state[/b] · $done trials done ($counts)",
        "objective: $goal $metric",
    ]
    best_line = "best: none finished yet"
    best = report.best if report is not None else None
    if best is not None and best.value is not None:
        values = ", ".join(f"{printable(k, keep_newlines=False)} = {format_param(v)}"
                           for k, v in best.params.items())  # fmt: skip
        best_line = f"best: trial {best.number}, {format_value(best.value)}  ({values})"
    lines.append("$best")
    alive = [w for w in folder.workers if w.alive]
    workers = (
        f"{len(alive)} worker{'s' if len(alive) != 1 else ''} at work: "
        + ", ".join(f"{w.host} pid {w.pid}" for w in alive)
        if alive
        else "no worker at work"
    )
    started = format_age(now - folder.created) if folder.created else "-"
    lines += ["$workers · started $started ago", "$folder", ""]
    if report is not None and report.problem:
        lines += ["[$error]$problem[/]", ""]
    lines.append("[$text-muted]enter: the sweep view · S: stop it · h/l: fold its trials[/]")
    return Content.from_markup(
        "\n".join(lines),
        name=printable(sweep.name, keep_newlines=False),
        experiment=printable(sweep.experiment, keep_newlines=False),
        method=printable(folder.method, keep_newlines=False),
        state=printable(sweep.state, keep_newlines=False),
        done=done,
        counts=counts,
        goal="maximize" if maximize else "minimize",
        metric=printable(sweep.metric, keep_newlines=False),
        best=best_line,
        workers=printable(workers, keep_newlines=False),
        started=started,
        folder=printable(str(folder.path), keep_newlines=False),
        problem=printable(report.problem if report is not None and report.problem else ""),
    )


def start_sweep(browser: BrowserScreen) -> None:
    """Ask, then start a sweep of the selected experiment (told why not when it has none)."""
    from dltui.tui.screens.confirm import ConfirmDialog
    from dltui.tui.sweep_launch import sweep_question

    entry = browser.selected_entry()
    if entry is None:
        browser.notify("Select an experiment with a file to sweep it.", severity="warning")
        return
    problems = browser.checks.problems(entry)
    if problems or entry.experiment is None:
        title, text = refusal(entry.path.name, problems or entry.problems)
        browser.notify(text, title=title, severity="error", timeout=12, markup=False)
        return
    question = sweep_question(entry.experiment, entry.path.name)
    if question is None:
        browser.notify(
            f"{entry.path.name} has no [sweep] table, so there is nothing to sweep: add one "
            "(the fields to vary and how; see docs/sweeps.md), or press r for one run.",
            severity="warning", timeout=8, markup=False,
        )  # fmt: skip
        return
    title, text = question
    path, name = entry.path, entry.name

    def answered(yes: bool | None) -> None:
        if yes:
            browser.post_message(SweepLaunchRequest(path, name))

    browser.app.push_screen(ConfirmDialog(title, text, confirm="Start"), answered)
