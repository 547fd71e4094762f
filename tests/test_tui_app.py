"""Pilot tests of the dashboard: browse, filter, sort, mark, themes, reload on change."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from tui_runs import (
    FROZEN_NOW,
    make_app,
    make_run,
    run_async,
    settle,
    spirals_toml,
    write_experiment,
)

from dltui.tui.messages import CompareRuns, LaunchRequest, OpenRun
from dltui.tui.screens.browser import BrowserScreen


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Two experiments (one with two runs, one with none) and a runs folder."""
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "spirals")
    write_experiment(experiments, "wide", spirals_toml(hidden=64))
    runs = tmp_path / "runs"
    make_run(runs, "spirals", "20260101-000000-aaaa", created=FROZEN_NOW - 7200)
    make_run(runs, "spirals", "20260101-010000-bbbb", created=FROZEN_NOW - 600, state="stopped")
    (tmp_path / "themes").mkdir()
    return tmp_path


def rows(screen: BrowserScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]).strip() for i in range(table.row_count)]


def details(screen: BrowserScreen) -> str:
    return str(screen.query_one("#details-body", Static).render())


@run_async
async def test_browser_lists_experiments_and_runs(workspace: Path) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.catalog is not None
        )
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        assert rows(screen) == [
            "▾ spirals",
            "20260101-010000-bbbb",
            "20260101-000000-aaaa",
            "▾ wide",
        ]
        table = screen.query_one(DataTable)
        run_row = [str(c) for c in table.get_row_at(1)]
        assert run_row[1:4] == ["stopped", "10m", run_row[3]]
        assert run_row[5] == "cpu"
        assert [str(c) for c in table.get_row_at(2)][2] == "2h"
        # vim keys move the cursor, and the details follow it
        await pilot.press("j")
        assert screen.selected_run is not None and screen.selected_run.run_id.endswith("bbbb")
        assert "stopped" in details(screen)
        await pilot.press("j", "j")
        assert screen.selected_experiment == "wide"
        assert "none yet" in details(screen)
        await pilot.press("k")
        assert screen.selected_run is not None and screen.selected_run.run_id.endswith("aaaa")
        await pilot.press("g")
        assert screen.selected_experiment == "spirals" and screen.selected_run is None


@run_async
async def test_filter_sort_and_fold(workspace: Path) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await pilot.press("slash", "s", "t", "o", "p")
        assert rows(screen) == ["▾ spirals", "20260101-010000-bbbb"]
        await pilot.press("escape")  # clears the filter, back to the list
        assert len(rows(screen)) == 4
        assert screen.focused is screen.query_one(DataTable)
        await pilot.press("slash", "w", "i", "d", "e", "enter")
        assert rows(screen) == ["▾ wide"]
        await pilot.press("escape")
        await pilot.press("o")  # name order
        assert screen.sort_mode == "name"
        assert rows(screen)[0] == "▾ spirals"
        assert rows(screen)[1:3] == ["20260101-000000-aaaa", "20260101-010000-bbbb"]
        await pilot.press("o")
        # Best values of different experiments are of different metrics: said in the title.
        assert screen.sort_mode == "best"
        title = screen.query_one("#title", Static).render()
        assert "sort: best in each experiment" in str(title)
        await pilot.press("o")  # status: stopped before finished
        assert screen.sort_mode == "status"
        assert rows(screen)[1] == "20260101-010000-bbbb"
        await pilot.press("g", "h")  # fold spirals
        assert rows(screen)[:2] == ["▸ spirals", "▾ wide"]
        await pilot.press("l")
        assert len(rows(screen)) == 4


@run_async
async def test_open_mark_compare_and_launch_post_messages(workspace: Path) -> None:
    posted: list[Message] = []
    app = make_app(workspace)
    async with app.run_test(size=(100, 30), message_hook=posted.append) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        # c with nothing marked on an experiment compares all its runs
        app.screen.app.push_screen  # noqa: B018 - keep pyright quiet about the attribute
        await pilot.press("j", "space", "space")
        assert len(screen.marked) == 2
        assert "◆" in rows(screen)[1] or "◆" in str(screen.query_one(DataTable).get_row_at(1)[0])
        compare = [m for m in posted if isinstance(m, CompareRuns)]
        assert not compare
        # launch on the experiment row posts the file to run
        await pilot.press("g", "r")
        launches = [m for m in posted if isinstance(m, LaunchRequest)]
        assert launches and launches[-1].experiment_path.name == "spirals.toml"


@run_async
async def test_open_posts_open_run(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posted: list[Message] = []
    app = make_app(workspace)
    # Keep this test to the browser: open a bare screen instead of the run view.
    monkeypatch.setattr("dltui.tui.screens.run.RunScreen", lambda run_dir, reader: Screen())
    async with app.run_test(size=(100, 30), message_hook=posted.append) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await pilot.press("enter")  # an experiment row opens its newest run
        opened = [m for m in posted if isinstance(m, OpenRun)]
        assert opened and opened[-1].run_dir.name == "20260101-010000-bbbb"
        # The run is read first, then its screen is shown.
        await settle(pilot, lambda: not isinstance(app.screen, BrowserScreen))
        app.pop_screen()  # a bare Screen has no back key: pop it by hand
        await pilot.press("j", "j", "enter")
        opened = [m for m in posted if isinstance(m, OpenRun)]
        assert opened[-1].run_dir.name == "20260101-000000-aaaa"


@run_async
async def test_invalid_edit_is_reported_then_fixed(workspace: Path) -> None:
    app = make_app(workspace, watch=True)
    path = workspace / "experiments" / "spirals.toml"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        good = path.read_text()
        path.write_text(good.replace('loss = "cross_entropy"', 'loss = "cross_entropi"'))
        await settle(pilot, lambda: "invalid" in str(screen.query_one(DataTable).get_row_at(0)[1]))
        text = details(screen)
        assert "training.loss" in text and "cross_entropi" in text
        assert "did you mean" in text
        assert "last valid version" in text  # the last good view stays below the errors
        assert "Data" in text
        path.write_text(good)
        await settle(
            pilot, lambda: "invalid" not in str(screen.query_one(DataTable).get_row_at(0)[1])
        )
        assert "problem" not in details(screen)


@run_async
async def test_new_run_from_another_shell_appears(workspace: Path) -> None:
    app = make_app(workspace, watch=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        make_run(workspace / "runs", "wide", "20260101-020000-cccc", created=FROZEN_NOW - 60)
        await settle(pilot, lambda: "20260101-020000-cccc" in rows(screen))
        assert rows(screen)[0] == "▾ wide"  # newest activity first


@run_async
async def test_themes_load_switch_and_report_bad_files(workspace: Path) -> None:
    themes = workspace / "themes"
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "reddish"\n')
    app = make_app(workspace, watch=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.themes_checked)
        assert app.theme == "dltui-midnight"
        assert "mine" in app.available_themes
        assert "broken" not in app.available_themes
        notes = [n.message for n in app._notifications]
        assert any("broken.toml: primary" in n and "reddish" in n for n in notes)
        app.action_set_theme("mine")
        assert app.theme == "mine"
        # editing the theme file reloads it; the bad file is not reported twice
        (themes / "mine.toml").write_text('name = "mine"\nprimary = "#00ff00"\ndark = false\n')
        await settle(pilot, lambda: app.current_theme.primary == "#00ff00")
        assert app.theme == "mine"
        assert sum("broken.toml" in n.message for n in app._notifications) == 1
        await pilot.press("ctrl+t")
        assert app.theme != "mine"


@run_async
async def test_help_lists_every_key(workspace: Path) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        from dltui.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body", Static).render())
        for label in ("Compare", "Start training", "Filter", "Quit", "Command palette"):
            assert label.lower() in text.lower()
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)


@run_async
async def test_a_screen_worker_that_fails_is_reported(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise OSError("runs folder went away")

    monkeypatch.setattr("dltui.tui.catalog.load_catalog", broken)
    app = make_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: bool(app._notifications))
        messages = [str(n.message) for n in app._notifications]
        assert any("runs folder went away" in m for m in messages)
        assert isinstance(app.screen, BrowserScreen)  # still running
