"""Deleting runs: the domain function, and the browser's delete command with its question."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Label, Static
from tui_runs import FROZEN_NOW, make_app, make_run, run_async, settle, write_experiment

from dltui.runs import RunRemovalError, RunWriter, remove_run, run_disk_usage
from dltui.tui.app import DashboardApp
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.confirm import ConfirmDialog

# -- the domain function -----------------------------------------------------------------


def test_removes_a_finished_run_and_keeps_its_experiment_folder(tmp_path: Path) -> None:
    run = make_run(tmp_path, "spirals", "20260101-000000-aaaa", epochs=1)
    assert isinstance(run, Path)
    (run / "checkpoints").mkdir(exist_ok=True)
    (run / "checkpoints" / "best.pt").write_bytes(b"x" * 10_000)
    os.link(run / "checkpoints" / "best.pt", run / "checkpoints" / "last.pt")
    size = run_disk_usage(run)
    assert 10_000 <= size < 20_000 + 16 * 4096  # the hard link counts once
    assert remove_run(run) == size
    assert not run.exists()
    assert (tmp_path / "spirals").is_dir()
    assert list((tmp_path / "spirals").iterdir()) == []  # no hidden leftovers either


def test_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "events.jsonl").write_text("")  # run-like, but no meta.json
    (folder / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(RunRemovalError, match="not a run folder") as refused:
        remove_run(folder)
    assert refused.value.path == folder and str(folder) in str(refused.value)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(RunRemovalError, match="not a readable run folder"):
        remove_run(folder)
    assert (folder / "cat.jpg").exists()
    with pytest.raises(RunRemovalError, match="no such folder"):
        remove_run(tmp_path / "absent")
    with pytest.raises(RunRemovalError, match="is a file"):
        remove_run(folder / "cat.jpg")


def test_refuses_a_link_to_a_run(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", epochs=1)
    assert isinstance(run, Path)
    link = tmp_path / "link"
    link.symlink_to(run, target_is_directory=True)
    with pytest.raises(RunRemovalError, match="symbolic link"):
        remove_run(link)
    assert (run / "meta.json").exists()


def test_refuses_a_live_run(tmp_path: Path) -> None:
    writer = make_run(tmp_path, "spirals", "20260101-000000-live", epochs=1, keep_open=True)
    assert isinstance(writer, RunWriter)
    try:
        with pytest.raises(RunRemovalError, match=r"is running.*stop it before deleting"):
            remove_run(writer.run_dir)
        assert (writer.run_dir / "meta.json").exists()
    finally:
        writer.close("stopped")
    remove_run(writer.run_dir)  # once stopped, it may go
    assert not writer.run_dir.exists()


# -- the browser -------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """spirals: two ended runs; wide: one live run (its writer is open until the test ends)."""
    write_experiment(tmp_path / "experiments", "spirals")
    write_experiment(tmp_path / "experiments", "wide")
    runs = tmp_path / "runs"
    make_run(runs, "spirals", "20260101-000000-aaaa", epochs=1, created=FROZEN_NOW - 7200)
    make_run(runs, "spirals", "20260101-010000-bbbb", epochs=1, created=FROZEN_NOW - 600,
             state="stopped")  # fmt: skip
    (tmp_path / "themes").mkdir()
    return tmp_path


@pytest.fixture
def live_run(workspace: Path):
    writer = make_run(workspace / "runs", "wide", "20260101-020000-live", epochs=1,
                      created=FROZEN_NOW - 60, keep_open=True)  # fmt: skip
    assert isinstance(writer, RunWriter)
    yield writer.run_dir
    writer.close("stopped")


def rows(screen: BrowserScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]).strip() for i in range(table.row_count)]


def select(screen: BrowserScreen, run_dir: Path) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(f"run:{run_dir}"))


async def loaded_browser(pilot) -> BrowserScreen:
    app = pilot.app
    await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


def dialog_text(app: DashboardApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConfirmDialog)
    title = str(screen.query_one("#confirm-title", Label).render())
    return title + "\n" + str(screen.query_one("#confirm-message", Static).render())


@run_async
async def test_delete_marked_runs_after_confirming(workspace: Path, live_run: Path) -> None:
    runs = workspace / "runs" / "spirals"
    aaaa, bbbb = runs / "20260101-000000-aaaa", runs / "20260101-010000-bbbb"
    app = make_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await loaded_browser(pilot)
        select(screen, aaaa)
        await pilot.press("space")
        select(screen, bbbb)
        await pilot.press("space")
        assert screen.marked == [aaaa, bbbb]
        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = dialog_text(app)
        assert "Delete 2 runs?" in text
        assert "spirals/20260101-000000-aaaa" in text and "spirals/20260101-010000-bbbb" in text
        assert "020000-live" not in text
        assert " KiB on disk" in text
        await pilot.press("y")
        await settle(
            pilot, lambda: not aaaa.exists() and "20260101-010000-bbbb" not in rows(screen)
        )
        assert not bbbb.exists()
        assert runs.is_dir()  # the experiment's runs folder stays, even empty
        assert screen.marked == []
        # the experiment keeps its row (it has a file); the live run is untouched
        assert rows(screen) == ["▾ wide", "20260101-020000-live", "▾ spirals"]
        assert live_run.exists()
        assert any("Deleted" in n.message for n in app._notifications)


@run_async
async def test_escape_cancels_and_deletes_nothing(workspace: Path) -> None:
    bbbb = workspace / "runs" / "spirals" / "20260101-010000-bbbb"
    app = make_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await loaded_browser(pilot)
        select(screen, bbbb)
        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Delete 1 run?" in dialog_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert (bbbb / "meta.json").exists()
        assert "20260101-010000-bbbb" in rows(screen)


@run_async
async def test_live_runs_are_refused(workspace: Path, live_run: Path) -> None:
    aaaa = workspace / "runs" / "spirals" / "20260101-000000-aaaa"
    app = make_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await loaded_browser(pilot)
        select(screen, live_run)
        await pilot.press("D")
        await settle(pilot)
        assert app.screen is screen  # nothing to ask about
        warnings = [n for n in app._notifications if "Not deleting live run" in n.message]
        assert len(warnings) == 1 and "20260101-020000-live" in warnings[0].message
        # marked together with an ended run: only the ended one is offered
        await pilot.press("space")
        select(screen, aaaa)
        await pilot.press("space", "D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = dialog_text(app)
        assert "Delete 1 run?" in text and "aaaa" in text and "020000-live" not in text
        await pilot.press("enter")
        await settle(pilot, lambda: not aaaa.exists())
        assert (live_run / "meta.json").exists()
