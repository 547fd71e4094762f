"""One surface for a run, whoever wrote it: dltui's reader and other tools' logs feed the panes.

`dltui.runs.source.RunSource` is checked by mypy against both readers (in the
module itself); here the same is checked at run time, and every pane of the run
view is fed another tool's log through it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget

from dltui.logs.discover import discover_logs
from dltui.logs.reader import LogRunReader
from dltui.runs import RunChanges, RunReader, RunWriter
from dltui.runs.source import RunSource
from dltui.tui.messages import RunUpdated, merge_changes
from dltui.tui.screens.run_panes import PANE_IDS, make_pane
from dltui.tui.widgets.run_pane import RunPane


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (no asyncio pytest plugin here)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def lightning_log(tmp_path: Path) -> LogRunReader:
    folder = tmp_path / "lightning_logs" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text(
        "step,epoch,train_loss,val_loss,lr-Adam\n0,0,1.0,,0.01\n1,0,0.5,0.7,0.01\n"
    )
    (run,) = discover_logs([tmp_path]).runs
    return LogRunReader(run)


def test_both_readers_are_run_sources(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "exp", run_id="20260101-000000-aaaa")
    writer.scalar("train/loss", 1.0, 1, 0.1)
    writer.close("finished")
    own = RunReader(writer.run_dir)
    other = lightning_log(tmp_path / "logs")
    for source in (own, other):
        assert isinstance(source, RunSource)
        assert isinstance(source.poll(), RunChanges)
        assert source.problems == [] and source.bad_lines == 0
    assert own.tags() == ["train/loss"] and "train_loss" in other.tags()


def test_a_reader_missing_part_of_the_surface_is_not_a_run_source() -> None:
    class HalfReader:
        run_dir = Path("x")

        def tags(self) -> list[str]:
            return []

    assert not isinstance(HalfReader(), RunSource)


class PaneApp(App[None]):
    def __init__(self, *panes: Widget) -> None:
        super().__init__()
        self.panes = panes

    def compose(self) -> ComposeResult:
        yield from self.panes


@run_async
async def test_every_pane_of_the_run_view_shows_another_tools_log(tmp_path: Path) -> None:
    source = lightning_log(tmp_path)
    panes = [make_pane(pane_id, source) for pane_id in PANE_IDS]
    assert all(isinstance(pane, RunPane) for pane in panes)
    app = PaneApp(*panes)
    async with app.run_test(size=(100, 60)) as pilot:
        for pane in panes:
            assert isinstance(pane, RunPane)
            pane.update_from(source, None)
            pane.update_from(source, source.poll())  # nothing new
        await pilot.pause()
        assert app.is_running and not app._exception


def test_queued_updates_fold_into_the_newest() -> None:
    older = RunChanges(tags={"a"}, new_tags={"a"}, points=2, status=True)
    newer = RunChanges(tags={"b"}, kinds={"epoch"}, points=3, events=1)
    merged = merge_changes(older, newer)
    assert merged is not None and merged is not newer
    assert merged.tags == {"a", "b"} and merged.new_tags == {"a"} and merged.kinds == {"epoch"}
    assert (merged.points, merged.events, merged.status, merged.reset) == (5, 1, True, False)
    assert merge_changes(None, newer) is None  # an unknown change stays unknown
    assert merge_changes(older, None) is None
    first = RunUpdated(Path("r"), older)
    second = RunUpdated(Path("r"), newer)
    assert first.can_replace(second) and second.changes is not None
    assert second.changes.tags == {"a", "b"}
    assert not first.can_replace(RunUpdated(Path("other"), RunChanges()))
