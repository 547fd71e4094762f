"""The one real launch: a tiny spirals experiment trained on the CPU by `dltui run`."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from tui_runs import FROZEN_NOW, run_async, settle, spirals_toml, write_experiment

from dltui.runs import RunReader
from dltui.tui.app import DashboardApp
from dltui.tui.messages import RunExited, RunLaunched
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.run import RunScreen
from dltui.tui.widgets import LinePlot


@pytest.mark.slow
@run_async
async def test_launch_watch_stop_then_resume_a_real_run(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    # Enough epochs that it is still training when we ask it to stop.
    write_experiment(experiments, "spirals", spirals_toml(epochs=400, samples=400, stopping=False))
    posted: list[Message] = []
    app = DashboardApp(
        experiments,
        tmp_path / "runs",
        tmp_path / "themes",
        watch=True,
        clock=lambda: FROZEN_NOW,
        layer_tables=False,
        follow_interval=0.05,
    )
    async with app.run_test(size=(100, 30), message_hook=posted.append) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.catalog is not None
        )
        await pilot.press("r")
        await settle(pilot, lambda: any(isinstance(m, RunLaunched) for m in posted), timeout=20)
        launched = next(m for m in posted if isinstance(m, RunLaunched))
        run_dir = launched.run_dir
        assert run_dir.parent == (tmp_path / "runs" / "spirals").resolve()
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        # the new run appears by itself, and opens
        await settle(
            pilot,
            lambda: any(Path(r.path) == run_dir and r.alive for r in browser.catalog.runs),
            timeout=60,
        )
        await pilot.press("j", "enter")
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None
        )
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.run_dir == run_dir

        def points() -> int:
            # Plots are rebuilt as the run's tags appear: look the loss plot up each time.
            plots = list(screen.query("#plot-loss").results(LinePlot))
            return len(plots[0].series[0].y) if plots and plots[0].series else 0

        await settle(pilot, lambda: points() >= 2, timeout=90)
        first = points()
        await settle(pilot, lambda: points() > first, timeout=30)  # the curve grows
        await pilot.press("S")
        await settle(pilot, lambda: any(isinstance(m, RunExited) for m in posted), timeout=60)
        exited = next(m for m in posted if isinstance(m, RunExited))
        assert exited.returncode == 130, (run_dir / "output.log").read_text()[-2000:]
        await settle(pilot, lambda: screen.reader.status.state == "stopped", timeout=10)
        # Resume from the view: the same run carries on, and its curve grows again.
        stopped_at = points()
        await pilot.press("R")
        await settle(
            pilot, lambda: sum(isinstance(m, RunLaunched) for m in posted) == 2, timeout=20
        )
        await settle(pilot, lambda: points() > stopped_at, timeout=90)
        assert screen.reader.events_of("resume")
        await pilot.press("S")
        await settle(pilot, lambda: sum(isinstance(m, RunExited) for m in posted) == 2, timeout=60)
        resumed = [m for m in posted if isinstance(m, RunExited)][-1]
        assert resumed.returncode == 130, (run_dir / "output.log").read_text()[-2000:]
    assert RunReader(run_dir).status.state == "stopped"
