"""Other tools' runs in the dashboard: opening them, naming them, and what does not apply.

A run in the browser is dltui's own (a run directory, `dltui.runs.RunReader`)
or another tool's log (TensorBoard, a Lightning or Keras CSV:
`dltui.logs.reader.LogRunReader`); `open_source` picks the reader from the
path, so the browser, the run view and compare need not know which. The other
helpers here say in words what such a run does not have: stop and resume (its
program is not dltui's), gradient norms, early stopping, samples, system
metrics; how its tags make plots is `dltui.logs.plots`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.content import Content

from dltui.logs.sources import KERAS_CSV, source_mark, source_name
from dltui.safe_text import printable

if TYPE_CHECKING:
    from textual.screen import Screen

    from dltui.runs.discovery import RunInfo
    from dltui.runs.source import RunSource


def open_source(path: Path) -> RunSource:
    """The reader of the run at ``path``: dltui's run directory, or another tool's log.

    Reads the run's history (numpy, vectorised): call it on a worker.
    """
    from dltui.logs.runs import log_run_at

    log = log_run_at(path)
    if log is not None:
        from dltui.logs.reader import LogRunReader

        return LogRunReader(log)
    from dltui.runs import RunReader

    return RunReader(path)


def tool_of(meta: dict[str, Any] | None) -> str | None:
    """The other tool a run's meta says logged it (None: dltui's own run)."""
    tool = (meta or {}).get("tool")
    return tool if isinstance(tool, str) and tool else None


def tool_of_source(source: RunSource) -> str | None:
    """The other tool that logged ``source`` (None: dltui's own run)."""
    return tool_of(source.meta)


# -- what does not apply ----------------------------------------------------------------


def cannot_control(source: str, action: str) -> str:
    """Why ``action`` (``stop``, ``resume``) does nothing for a run ``source`` logged."""
    return (
        f"{action.capitalize()} does not apply to this run: it was logged by "
        f"{source_name(source)} in another program, which dltui did not start and cannot "
        "signal. dltui only reads its log."
    )


def cannot_delete(count: int) -> str:
    """Why the other tools' runs among those to delete are left alone."""
    runs = "run" if count == 1 else "runs"
    return (
        f"Not deleting {count} {runs} of other tools (TensorBoard, CSV logs): "
        "dltui only reads their logs, it never removes them."
    )


NOT_RECORDED = {
    "gradients": "Per-layer gradient norms",
    "stopping": "Early stopping",
    "system": "System metrics (CPU, memory, GPU)",
    "samples": "Samples",
    "output": "Text output",
    "confusion": "Confusion matrix",
}
"""The panes a run of another tool has nothing for, and what each would show."""


def not_recorded(pane_id: str, source: str) -> str:
    """``Early stopping: not recorded by TensorBoard.`` and what dltui would show there."""
    what = NOT_RECORDED.get(pane_id, pane_id)
    return (
        f"{what}: not recorded by {source_name(source)}.\n\n"
        "dltui's own runs (dltui run, or a script logging with dltui.tracking) record it."
    )


# -- the browser's details ----------------------------------------------------------------


def _line(template: str, **values: object) -> Content:
    # Values are anyone's text (folder names): made printable and never read as markup.
    return Content.from_markup(
        template, **{k: printable(str(v), keep_newlines=False) for k, v in values.items()}
    )


def describe_log_run(run: RunInfo, now: float | None = None) -> Content:
    """Another tool's run in the browser's details pane: what logged it, where, how fresh."""
    from dltui.tui.screens.run_list import STATE_COLOURS, format_age

    now = time.time() if now is None else now
    source = run.source or ""
    colour = STATE_COLOURS.get(run.state, "foreground")
    lines = [
        _line("[b]$experiment[/b] / $run", experiment=run.experiment, run=run.run_id),
        Content(""),
        _line("[b]Logged by[/b] $tool ($mark)", tool=source_name(source), mark=source_mark(source)),
        _line(f"[b]Status[/b]    [${colour}]$state[/]", state=run.state),
    ]
    if run.created:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
        lines.append(
            _line("[b]Started[/b]   $at ($ago ago)", at=started, ago=format_age(now - run.created))
        )
    if run.status.heartbeat:
        lines.append(_line("[b]Written[/b]   $ago ago", ago=format_age(now - run.status.heartbeat)))
    kind = "File" if source == KERAS_CSV else "Folder"
    lines.append(_line(f"[b]{kind:<6}[/b]    $folder", folder=run.path))
    lines.append(Content(""))
    lines.append(
        Content.from_markup(
            "[$text-muted][b]enter[/b] open   [b]space[/b] mark (and move down)   "
            "read only: no stop, resume or delete[/]"
        )
    )
    return Content("\n").join(lines)


def describe_log_folder(name: str, runs: Sequence[RunInfo]) -> Content:
    """A folder of other tools' runs in the details pane (it has no experiment file)."""
    tools = sorted({source_name(run.source or "") for run in runs})
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    return Content("\n").join(
        [
            _line("[b]$name[/b]", name=name),
            Content(""),
            _line("$count logged by $tools, read from $folder.", count=count,
                  tools=" and ".join(tools), folder=Path(runs[0].path).parent),
            Content(""),
            Content.from_markup("[$text-muted][b]enter[/b] open the newest   "
                                "[b]c[/b] compare its runs   read only[/]"),
        ]
    )  # fmt: skip


def log_problems_text(problems: Sequence[str], limit: int = 6) -> str:
    """The log folders' problems as a notification's text (the first few, then a count)."""
    shown = [printable(p, keep_newlines=False) for p in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"… and {len(problems) - limit} more")
    return "\n".join(shown)


def report_log_problems(screen: Screen[Any], problems: Sequence[str]) -> None:
    """Notify the log folders' problems once (again only when they change)."""
    key = tuple(problems)
    if not key or getattr(screen, "_log_problems_shown", ()) == key:
        return
    screen._log_problems_shown = key  # type: ignore[attr-defined]
    screen.notify(log_problems_text(problems), title="Log folders", severity="warning",
                  timeout=10, markup=False)  # fmt: skip
