"""One snapshot per screen, with a frozen clock and pinned run times so ages never drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_runs import FROZEN_NOW, make_run, settle, spirals_toml, write_experiment

from dltui.tui.app import DashboardApp
from dltui.tui.messages import CompareRuns, OpenRun
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.compare import CompareScreen
from dltui.tui.screens.run import RunScreen


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Experiments and finished runs at fixed paths under ``tmp_path``."""
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "spirals")
    write_experiment(experiments, "broken", spirals_toml().replace("adam", "adamm"))
    runs = tmp_path / "runs"
    make_run(runs, "spirals", "20260101-000000-aaaa", created=FROZEN_NOW - 7200, system=False)
    make_run(
        runs,
        "spirals",
        "20260101-010000-bbbb",
        created=FROZEN_NOW - 600,
        system=False,
        state="stopped",
        lr=0.1,
        loss_scale=1.4,
        experiment_text=spirals_toml(lr=0.1),
    )
    return tmp_path


def _loaded(app: DashboardApp) -> bool:
    return isinstance(app.screen, BrowserScreen) and app.screen.catalog is not None


async def _hide_cursor(pilot) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


def test_browser_snapshot(snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: _loaded(pilot.app))
        await _hide_cursor(pilot)
        await pilot.press("j")
        await pilot.pause(0.3)

    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_browser_invalid_experiment_snapshot(
    snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: _loaded(pilot.app))
        await _hide_cursor(pilot)
        await pilot.press("o")  # by name: broken first

    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_run_view_snapshot(snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)

    async def run_before(pilot) -> None:
        pilot.app.animation_level = "none"  # the tab underline slides otherwise
        await settle(pilot, lambda: _loaded(pilot.app))
        pilot.app.post_message(OpenRun(Path("runs/spirals/20260101-000000-aaaa")))
        await settle(
            pilot,
            lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen.reader is not None,
        )
        await pilot.pause(0.2)

    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_compare_snapshot(snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: _loaded(pilot.app))
        pilot.app.post_message(
            CompareRuns(
                [
                    Path("runs/spirals/20260101-000000-aaaa"),
                    Path("runs/spirals/20260101-010000-bbbb"),
                ]
            )
        )
        await settle(
            pilot,
            lambda: isinstance(pilot.app.screen, CompareScreen) and bool(pilot.app.screen.tags),
        )
        await pilot.pause(0.2)

    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help_snapshot(snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: _loaded(pilot.app))
        await pilot.press("question_mark")

    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)
