"""Sweeps in the dashboard: listed in the browser with their trials, the sweep view, w and S.

The sweeps are real: `dltui sweep` on the tiny experiment of test_sweep.py (a
trial is about a second). One finished sweep is made once for the module and
copied for each test that only reads it; the launch tests start their own from
the browser.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_sweep import BASE
from textual.widgets import DataTable
from tui_runs import make_app, run_async, settle

from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.compare import CompareScreen
from dltui.tui.screens.confirm import ConfirmDialog
from dltui.tui.screens.run import RunScreen
from dltui.tui.screens.sweep import SweepScreen
from dltui.tui.screens.sweep_plots import importance_lines
from dltui.tui.screens.sweep_table import TrialTable
from dltui.tui.screens.sweep_trials import sort_trials
from dltui.tui.widgets.sweep_plot import SweepPlot

pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = "[b]bold[/b] \\u001b[31mred"
"""A sampled value holding markup and an escape (TOML's \\u001b): shown as text."""

GRID = f"""method = "grid"
parallel = 2

[sweep.params]
"training.optimizer.lr" = {{ choices = [0.05, 0.3] }}
"model.layers[0].out_features" = {{ choices = [4, 8] }}
"description" = {{ choices = ["{HOSTILE}", "plain"] }}
"""
"""Eight trials: enough finished ones for Optuna's importances."""

LONG = """method = "random"
trials = 60
parallel = 1

[sweep.params]
"training.optimizer.lr" = { low = 0.01, high = 0.5, log = true }
"""
"""A sweep that is still running when the tests stop it."""


def _experiment(root: Path, name: str, sweep: str | None, epochs: int = 3) -> Path:
    folder = root / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    text = BASE.format(sweep=sweep or "", epochs=epochs)
    if sweep is None:
        text = text.replace("[sweep]\n", "")
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with experiments/tiny.toml and its finished grid sweep ``grid`` in runs/."""
    root = tmp_path_factory.mktemp("sweep")
    path = _experiment(root, "tiny", GRID)
    done = subprocess.run(
        [sys.executable, "-m", "dltui", "sweep", str(path), "--runs", str(root / "runs"),
         "--name", "grid"],
        capture_output=True, text=True, timeout=300, cwd=root, check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture
def swept(finished_sweep: Path, tmp_path: Path) -> Path:
    """A copy of the finished sweep's folder for one test."""
    shutil.copytree(finished_sweep, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _rows(screen: Any) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _keys(screen: BrowserScreen) -> list[str]:
    return [row.key for row in screen.table.listed]


def _notes(app: Any) -> list[str]:
    return [f"{n.title}\n{n.message}" for n in app._notifications]


async def _browser(pilot: Any, app: Any) -> BrowserScreen:
    await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None, timeout=60)
    assert isinstance(app.screen, BrowserScreen)
    return app.screen


async def _open_sweep(pilot: Any, app: Any, name: str = "grid") -> SweepScreen:
    screen = await _browser(pilot, app)
    await settle(pilot, lambda: any(f"sweep {name}" in r[0] for r in _rows(screen)), 60)
    key = next(k for k in _keys(screen) if k.startswith("sweep:") and k.endswith(name))
    screen.table.select(key)
    await pilot.press("enter")
    await settle(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.reads > 0, 60)
    assert isinstance(app.screen, SweepScreen)
    return app.screen


@run_async
async def test_the_browser_lists_a_sweep_and_its_trials_under_it(swept: Path) -> None:
    app = make_app(swept)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _browser(pilot, app)
        await settle(pilot, lambda: any("sweep grid" in r[0] for r in _rows(screen)), 60)
        rows = _rows(screen)
        names = [r[0].strip() for r in rows]
        at = next(i for i, r in enumerate(rows) if "sweep grid" in r[0])
        sweep_row = rows[at]
        assert "(grid)" in sweep_row[0] and sweep_row[1] == "finished" and sweep_row[4] == "8/8"
        assert "val/loss" in sweep_row[3]  # the best objective, with its metric
        trials = names[at + 1 : at + 9]
        assert sorted(int(t.split()[0].lstrip("◆#")) for t in trials) == list(range(8))
        assert not any(n.startswith("sweeps") for n in names)  # the folder is not a run
        # The details pane says what the sweep is; enter opens it; S is offered only when live.
        screen.table.select(next(k for k in _keys(screen) if k.startswith("sweep:")))
        await pilot.pause()
        body = str(screen.query_one("#details-body").render())
        assert "grid search" in body and "8 of 8 trials done" in body and "best: trial" in body
        assert screen.check_action("stop", ()) is None
        # h folds the trials away, l brings them back.
        await pilot.press("h")
        assert len(_rows(screen)) == len(rows) - 8
        await pilot.press("l")
        assert len(_rows(screen)) == len(rows)


@run_async
async def test_the_sweep_view_sorts_stars_the_best_and_opens_a_trial(swept: Path) -> None:
    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        report = view.report
        assert report is not None and report.best is not None
        table = view.query_one(TrialTable)
        assert [t.number for t in table.shown] == list(range(8))  # by number at first
        starred = [r for r in _rows(view) if r[0].startswith("★")]
        assert len(starred) == 1 and starred[0][0].split()[-1] == str(report.best.number)
        # o moves the sort to the next column, heading marked; every column sorts.
        columns = [c.key for c in table.columns.values()]
        for _ in range(len(columns)):
            await pilot.press("o")
            if view.sort_key == "objective":
                break
        values = [t.value for t in table.shown]
        assert values == sorted(values)  # val/loss: the smallest (best) first
        assert "▲" in str(table.ordered_columns[2].label)
        await pilot.press("O")
        assert [t.value for t in table.shown] == sorted(values, reverse=True)
        await pilot.press("O")
        # enter on the first row (the best) opens its run.
        table.move_cursor(row=0)
        best = table.shown[0]
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen), 60)
        assert isinstance(app.screen, RunScreen)
        assert app.screen.run_dir == best.run_dir
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is view)


@run_async
async def test_the_plots_have_points_and_importances_rank_the_values(swept: Path) -> None:
    app = make_app(swept)
    async with app.run_test(size=(200, 60)) as pilot:
        view = await _open_sweep(pilot, app)
        await pilot.press("2")
        await pilot.pause()
        progress = view.query_one("#progress", SweepPlot)
        assert progress.frame is not None
        assert any("\u2800" < ch <= "\u28ff" for ch in progress.frame.text)  # braille dots
        assert "best so far" in progress.frame.text
        await pilot.press("3")
        await settle(pilot, lambda: len(view.query(".param-plot")) == 3)
        await pilot.pause()
        plots = list(view.query(".param-plot").results(SweepPlot))
        texts = [p.frame.text if p.frame else "" for p in plots]
        assert all(any("\u2800" < ch <= "\u28ff" for ch in text) for text in texts)
        assert any("plain" in text for text in texts)  # text choices are named on the axis
        await pilot.press("4")
        await pilot.pause()
        shown = str(view.query_one("#sweep-importances").render())
        assert "█" in shown and "training.optimizer.lr" in shown


@run_async
async def test_marked_trials_are_compared(swept: Path) -> None:
    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        table = view.query_one(TrialTable)
        table.move_cursor(row=1)
        await pilot.press("space", "space")
        assert view.marked == [1, 2]
        assert any(r[0].startswith("◆") for r in _rows(view))
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen), 60)
        compared = app.screen.run_dirs  # type: ignore[attr-defined]
        by_number = {t.number: t.run_dir for t in table.shown}
        assert compared == [by_number[1], by_number[2]]


@run_async
async def test_text_in_sampled_values_is_shown_as_text(swept: Path) -> None:
    app = make_app(swept)
    async with app.run_test(size=(160, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        cells = [cell for row in _rows(view) for cell in row]
        assert any("[b]bold[/b] ␛[31mred" in cell for cell in cells)
        assert not any("\x1b" in cell for cell in cells)


def test_sorting_puts_trials_without_a_value_last_either_way() -> None:
    from dltui.sweep.report import TrialRow

    def trial(number: int, value: float | None) -> TrialRow:
        state = "finished" if value is not None else "running"
        return TrialRow(number, state, {}, value, {}, None, None, None, None)

    trials = [trial(0, 0.5), trial(1, None), trial(2, 0.1), trial(3, 0.9), trial(4, 0.5)]
    assert [t.number for t in sort_trials(trials, "objective", False)] == [2, 0, 4, 3, 1]
    # Ties keep the order the trials ran in, whichever way the column sorts.
    assert [t.number for t in sort_trials(trials, "objective", True)] == [3, 0, 4, 2, 1]


def test_importances_say_how_many_finished_trials_they_need() -> None:
    from dltui.sweep.report import SweepReport

    report = SweepReport(folder=None, metric="val/loss", maximize=False, params=["a", "b"])  # type: ignore[arg-type]
    assert importance_lines(report, 80, 2, 4) == [
        "Parameter importances need ≥ 4 finished trials (2 so far)."
    ]


def _sweep_folders(root: Path, experiment: str) -> list[Path]:
    return sorted((root / "runs" / experiment / "sweeps").glob("*"))


@run_async
async def test_w_starts_a_sweep_and_s_stops_it(tmp_path: Path) -> None:
    _experiment(tmp_path, "long", LONG, epochs=30)
    _experiment(tmp_path, "plain", None)
    app = make_app(tmp_path, follow_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _browser(pilot, app)
        # An experiment without [sweep]: told so, nothing started.
        screen.table.select("exp:plain")
        await pilot.press("w")
        await pilot.pause()
        assert any("has no [sweep] table" in n for n in _notes(app))
        assert not (tmp_path / "runs" / "plain").exists()
        # With one: asked first, then started as its own process.
        screen.table.select("exp:long")
        await pilot.press("w")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "random search: 60 trials" in str(app.screen.message)  # type: ignore[attr-defined]
        await pilot.press("y")
        await settle(pilot, lambda: bool(app.launched_sweeps), 30)
        folder = next(iter(app.launched_sweeps))
        assert folder.parent.parent.name == "long" and (folder / "output.log").exists()
        try:
            screen.reload()

            def running() -> bool:
                return any("sweep" in r[0] and r[1].startswith("running") for r in _rows(screen))

            deadline = time.monotonic() + 90
            while not running() and time.monotonic() < deadline:
                screen.reload()
                await settle(pilot, timeout=2)
            assert running(), (folder / "output.log").read_text()
            screen.table.select(f"sweep:{folder}")
            await pilot.pause()
            assert screen.check_action("stop", ()) is True
            await pilot.press("S")
            await pilot.pause()
            assert (folder / "stop").exists()
            process = app.launched_sweeps[folder].process
            await settle(pilot, lambda: process.poll() is not None, 120)
            assert process.returncode == 130, (folder / "output.log").read_text()
            await settle(pilot, lambda: any("stopped" in n for n in _notes(app)), 10)
            # R carries it on (dltui sweep --resume): finished trials kept, its log appended.
            await settle(pilot, lambda: not app.launched_sweeps, 10)
            screen.reload()
            await settle(pilot, lambda: screen.check_action("resume", ()) is True, 30)
            await pilot.press("R")
            await settle(pilot, lambda: bool(app.launched_sweeps), 30)
            resumed = app.launched_sweeps[folder].process
            deadline = time.monotonic() + 90
            while not running() and time.monotonic() < deadline:
                screen.reload()
                await settle(pilot, timeout=2)
            assert running(), (folder / "output.log").read_text()
            await pilot.press("S")  # still selected: asks the resumed sweep to stop
            await settle(pilot, lambda: resumed.poll() is not None, 120)
            log = (folder / "output.log").read_text()
            assert resumed.returncode == 130, log
            assert log.count(f"sweep {folder.name}") >= 2  # both processes wrote there
        finally:
            for launched in list(app.launched_sweeps.values()):
                if launched.process.poll() is None:
                    launched.process.kill()
        workers = [json.loads(p.read_text()) for p in (folder / "workers").glob("*.json")]
        assert [w["status"] for w in workers] == ["stopped", "stopped"]


@run_async
async def test_the_sweep_view_follows_a_live_sweep_and_stops_it(tmp_path: Path) -> None:
    path = _experiment(tmp_path, "long", LONG, epochs=30)
    process = subprocess.Popen(
        [sys.executable, "-m", "dltui", "sweep", str(path), "--runs", str(tmp_path / "runs"),
         "--name", "live", "--trials", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "runs/long/sweeps/live/sweep.json").exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            view = await _open_sweep(pilot, app, "live")
            first = view.reads
            # Read again while live (every 2 s), with trials finishing meanwhile.
            await settle(
                pilot,
                lambda: (
                    view.reads > first
                    and view.report is not None
                    and view.report.counts().get("finished", 0) >= 1
                ),
                90,
            )
            assert "/50 done" in str(view.query_one("#sweep-title").render())  # --trials 50
            assert view.check_action("stop", ()) is True
            await pilot.press("S")
            await pilot.pause()
            assert (tmp_path / "runs/long/sweeps/live/stop").exists()
            assert process.wait(timeout=120) == 130
            await settle(
                pilot, lambda: view.report is not None and view.report.folder.state == "stopped", 30
            )
            assert "stopped" in str(view.query_one("#sweep-title").render())
            # Its trials that were running are stopped now (a resume takes them up again).
            await settle(pilot, lambda: view.report is not None and view.reads > 0, 5)
            assert view.report is not None and "running" not in view.report.counts()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_running_trial_shows_its_latest_value_and_epoch() -> None:
    from dltui.sweep.report import SweepReport, TrialRow
    from dltui.tui.screens.sweep_trials import trial_cells, trial_columns

    report = SweepReport(folder=None, metric="val/loss", maximize=False, params=["lr"])  # type: ignore[arg-type]
    running = TrialRow(4, "running", {"lr": 0.01}, None, {1: 0.9, 2: 0.7}, None, None, 100.0, None)
    cells = dict(
        zip(
            [c.key for c in trial_columns(report)],
            trial_cells(running, trial_columns(report), 112.0),
            strict=True,
        )
    )
    assert cells["objective"] == "0.7…" and cells["best_epoch"] == "2…"
    assert cells["duration"] == "12s…" and cells["param:lr"] == "0.01"


@run_async
async def test_an_unreadable_sweep_folder_is_reported_once_and_the_rest_listed(
    swept: Path,
) -> None:
    import os

    bad = swept / "runs" / "tiny" / "sweeps" / "broken"
    bad.mkdir()
    (bad / "sweep.json").write_text("{not json \x1b[31m")
    old = time.time() - 3600
    os.utime(bad, (old, old))
    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _browser(pilot, app)
        await settle(pilot, lambda: any("sweep grid" in r[0] for r in _rows(screen)), 60)
        said = [n for n in _notes(app) if "Sweeps that cannot be read" in n]
        assert len(said) == 1 and "broken/sweep.json" in said[0] and "\x1b" not in said[0]
        screen.reload()
        await settle(pilot, timeout=5)
        assert len([n for n in _notes(app) if "Sweeps that cannot be read" in n]) == 1


@run_async
async def test_a_sweep_whose_study_cannot_be_read_says_so_once(swept: Path) -> None:
    journal = swept / "runs" / "tiny" / "sweeps" / "grid" / "study.journal"
    journal.write_text("not a journal \x1b[2J\n")
    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        first = view.reads
        view.reload()
        await settle(pilot, lambda: view.reads > first, 30)
        said = [n for n in _notes(app) if "cannot read its study" in n]
        assert len(said) == 1 and "\x1b" not in said[0]
        assert view.query_one(TrialTable).row_count == 0  # nothing made up


def _set_worker(folder: Path, status: str, *, alive: bool = False) -> None:
    """Make the sweep's one worker file say ``status`` (a live one: this process, beating)."""
    import os

    from dltui.runs.control import this_host

    for path in (folder / "workers").glob("*.json"):
        path.unlink()
    beat = time.time() if alive else time.time() - 3600
    worker = {"host": this_host(), "pid": os.getpid(), "status": status, "heartbeat": beat,
              "running": [], "budget": 8}  # fmt: skip
    (folder / "workers" / f"{this_host()}-{os.getpid()}.json").write_text(json.dumps(worker))


def _footer_keys(screen: Any) -> dict[str, bool]:
    from dltui.tui.key_footer import KeyFooter

    entries, _ = screen.query_one(KeyFooter).entries()
    return {entry.display: entry.enabled for entry in entries}


@run_async
async def test_r_in_the_sweep_view_resumes_a_stopped_sweep_and_refuses_otherwise(
    swept: Path,
) -> None:
    folder = swept / "runs" / "tiny" / "sweeps" / "grid"
    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        # Finished: its budget is run, so R is offered greyed and says why when pressed.
        assert view.check_action("resume", ()) is None
        assert _footer_keys(view).get("R") is False
        view.action_resume()
        await pilot.pause()
        assert any("ran its budget" in n for n in _notes(app)), _notes(app)
        assert not app.launched_sweeps
        # Running (a live worker): already running, nothing started.
        _set_worker(folder, "running", alive=True)
        first = view.reads
        view.reload()
        await settle(pilot, lambda: view.reads > first, 30)
        assert view.check_action("resume", ()) is None
        view.action_resume()
        await pilot.pause()
        assert any("already running" in n for n in _notes(app)), _notes(app)
        assert not app.launched_sweeps
        # Stopped: R carries it on, as the browser's R does, and the footer offers it.
        _set_worker(folder, "stopped")
        first = view.reads
        view.reload()
        await settle(pilot, lambda: view.reads > first, 30)
        assert view.check_action("resume", ()) is True
        await settle(pilot, lambda: _footer_keys(view).get("R") is True, 5)
        await pilot.press("R")
        try:
            await settle(pilot, lambda: any("Resumed sweep grid" in n for n in _notes(app)), 30)
            # The view follows it: its budget was run, so the resumed sweep soon finishes.
            await settle(
                pilot,
                lambda: view.report is not None and view.report.folder.state == "finished",
                60,
            )
            assert view.check_action("resume", ()) is None
        finally:
            for launched in list(app.launched_sweeps.values()):
                launched.process.wait(timeout=120)


@run_async
async def test_a_trials_run_view_says_which_trial_of_which_sweep_and_w_goes_back_to_it(
    swept: Path,
) -> None:
    from dltui.tui.messages import OpenRun
    from dltui.tui.widgets.overview_pane import OverviewPane

    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        table = view.query_one(TrialTable)
        table.move_cursor(row=3)
        trial = table.shown[3]
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RunScreen), 60)
        run_view = app.screen
        assert isinstance(run_view, RunScreen)
        title = str(run_view.query_one("#run-title").render())
        assert f"trial #{trial.number} of sweep grid" in title, title
        narrow = run_view._title(78)  # 80 columns: still one line, still a trial
        assert f"trial #{trial.number}" in narrow and "\n" not in narrow, narrow
        # The values it was given are in the overview, each with its field.
        await pilot.press("2")
        await pilot.pause()
        facts = run_view.query_one(OverviewPane).facts_text().plain
        lr = trial.params["training.optimizer.lr"]
        assert f"training.optimizer.lr = {lr:g}" in facts, facts
        width = trial.params["model.layers[0].out_features"]
        assert f"model.layers[0].out_features = {width}" in facts
        assert "[b]bold[/b] ␛[31mred" in facts or "plain" in facts  # text shown as text
        assert "\x1b" not in facts
        # w goes to the sweep: back to the view it came from, not a second copy of it.
        assert _footer_keys(run_view).get("w") is True
        depth = len(app.screen_stack)
        await pilot.press("w")
        await settle(pilot, lambda: app.screen is view, 10)
        assert len(app.screen_stack) == depth - 1
        # Opened from the browser, w opens the sweep view over it.
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen), 10)
        assert trial.run_dir is not None
        app.post_message(OpenRun(trial.run_dir))
        await settle(pilot, lambda: isinstance(app.screen, RunScreen), 60)
        await pilot.press("w")
        await settle(pilot, lambda: isinstance(app.screen, SweepScreen), 10)
        assert app.screen.folder == swept / "runs" / "tiny" / "sweeps" / "grid"  # type: ignore[attr-defined]


@run_async
async def test_a_run_that_is_no_trial_has_no_sweep_key(tmp_path: Path) -> None:
    from tui_runs import make_run

    from dltui.tui.messages import OpenRun

    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _browser(pilot, app)
        app.post_message(OpenRun(tmp_path / "runs" / "spirals" / "20260101-000000-aaaa"))
        await settle(pilot, lambda: isinstance(app.screen, RunScreen), 60)
        assert "w" not in _footer_keys(app.screen)
        assert "trial" not in str(app.screen.query_one("#run-title").render())
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        app.screen.action_open_sweep()  # as the palette would: told why not
        await pilot.pause()
        assert any("no trial of a sweep" in n for n in _notes(app))
        assert isinstance(app.screen, RunScreen)


def _cut_cells(table: DataTable[Any]) -> list[str]:
    """Cells wider than their column (drawn cut), and whether the table scrolls sideways."""
    from rich.cells import cell_len

    cut = []
    for column in table.ordered_columns:
        for row in range(table.row_count):
            text = str(table.get_cell_at((row, table.ordered_columns.index(column))))
            if cell_len(text) > column.width:
                cut.append(f"{column.key.value}: {text!r} in {column.width}")
    if table.virtual_size.width > table.scrollable_content_region.width:
        cut.append(f"{table.virtual_size.width} wide in {table.scrollable_content_region.width}")
    return cut


LONG_NAME = "an-experiment-with-a-rather-long-name"


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
@run_async
async def test_the_browser_shows_trials_whole_at_every_width(
    swept: Path, size: tuple[int, int]
) -> None:
    _experiment(swept, LONG_NAME, None)
    app = make_app(swept)
    async with app.run_test(size=size) as pilot:
        screen = await _browser(pilot, app)
        await settle(pilot, lambda: any("sweep grid" in r[0] for r in _rows(screen)), 60)
        await pilot.pause(0.2)
        table = screen.table
        assert _cut_cells(table) == []
        keys = [c.key.value for c in table.ordered_columns]
        names = [r[0] for r in _rows(screen)]
        runs = [n for n in names if "#" in n]
        assert len(runs) == 8 and all(len(n.split()[-1]) == 20 for n in runs)  # run ids whole
        long_row = next(n for n in names if n.endswith("long-name"))
        if size[0] >= 120:
            assert keys == ["name", "status", "age", "best", "epoch", "device"]
        if size[0] >= 200:
            # Room enough: every column headed in full, every name in full.
            assert "Best (metric)" in [str(c.label) for c in table.ordered_columns]
            assert long_row.endswith(LONG_NAME)
        else:
            # Narrower, the long experiment name gives way (elided), never a run's id.
            assert {"name", "status", "best", "epoch"} <= set(keys)
            assert "…" in long_row and long_row.lstrip("▾ ").startswith("an-exp"), long_row


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
@run_async
async def test_the_sweep_view_shows_its_columns_whole_at_every_width(
    swept: Path, size: tuple[int, int]
) -> None:
    app = make_app(swept)
    async with app.run_test(size=size) as pilot:
        view = await _open_sweep(pilot, app)
        await pilot.pause(0.2)
        table = view.query_one(TrialTable)
        assert _cut_cells(table) == []
        keys = [c.key.value for c in table.ordered_columns]
        params = ["training.optimizer.lr", "model.layers[0].out_features", "description"]
        assert keys[:3] == ["#", "state", "objective"]
        shown = [p for p in params if f"param:{p}" in keys]
        if size[0] >= 120:
            assert shown == params and "best_epoch" in keys and "duration" in keys
        else:
            # The varied values come before the epoch and the time; what does not fit
            # is said for the selected trial under the table.
            assert "training.optimizer.lr" in shown and "param:model.layers[0].out_features" in keys
            trial = table.selected_trial
            assert trial is not None
            line = str(view.query_one("#sweep-hidden").render())
            hidden = [k for k in ("best_epoch", "duration") if k not in keys]
            assert hidden and f"#{trial.number}" in line
            for path in params:
                if path not in shown:
                    assert path.split(".")[-1] in line
        if size[0] >= 120:
            assert not view.query_one("#sweep-hidden").display


@run_async
async def test_the_sweep_view_reads_again_whichever_way_a_change_names_its_folder(
    swept: Path,
) -> None:
    import os

    from dltui.tui.messages import DirectoryChanged

    app = make_app(swept)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _open_sweep(pilot, app)
        await settle(pilot, lambda: not view._reading, 30)
        await pilot.pause(1.0)
        quiet = view.reads
        await pilot.pause(1.5)
        assert view.reads == quiet  # a finished sweep is not read again unasked
        journal = view.folder / "study.journal"
        # The supervisor names a resumed sweep's folder resolved; the watcher names paths
        # as its root was given: relative or absolute, they are the same folder.
        for named in (Path(os.path.relpath(journal)), journal.resolve()):
            first = view.reads
            app.post_message(DirectoryChanged("runs", app.runs_dir, frozenset({named})))
            await settle(pilot, lambda first=first: view.reads > first, 10)
            assert view.reads > first, named


def test_a_trial_names_its_sweep_once() -> None:
    from dltui.tui.sweep_catalog import SweepTrial, sweep_trial

    assert SweepTrial("grid", 3, ()).title == "trial #3 of sweep grid"
    assert SweepTrial("sweep-20261201-180005", 3, ()).title == "trial #3 of sweep-20261201-180005"
    meta = {"config": {"sweep": {"name": "x\x1b[2J", "trial": 1, "params": {"a": 1}}}}
    trial = sweep_trial(meta)
    assert trial is not None and "\x1b" not in trial.title and trial.params == (("a", 1),)
    assert sweep_trial({"config": {"sweep": {"name": "x", "trial": True}}}) is None


@run_async
async def test_a_list_without_its_age_column_is_not_refilled_as_ages_move_on() -> None:
    from textual.app import App, ComposeResult

    from dltui.tui.screens.run_list import Cell, ListRow
    from dltui.tui.screens.run_table import RunTable

    class Narrow(App[None]):
        CSS = "RunTable { width: auto; max-width: 62; }"

        def compose(self) -> ComposeResult:
            yield RunTable()

    rows = [
        ListRow(f"run:{n}", f"x{n}", (Cell(f"    #{n} 20260101-000000-aaaa"), Cell("finished"),
                Cell("5s"), Cell("0.9 val/acc"), Cell("12"), Cell("cuda:0")), 1000.0)
        for n in range(3)
    ]  # fmt: skip
    app = Narrow()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(RunTable)
        await pilot.pause()
        table.show(rows)
        keys = [c.key.value for c in table.ordered_columns]
        assert "age" not in keys and "device" not in keys and _cut_cells(table) == []
        shown = []
        table.show = lambda listed: shown.append(listed)  # type: ignore[method-assign]
        table.tick(1100.0)  # every age moves on: nothing to repaint, nothing to refill
        assert shown == []


def test_importance_bars_name_every_field_whole_at_80_columns() -> None:
    from dltui.sweep.report import SweepReport

    paths = [
        "model.layers[3].out_features",
        "model.layers[0].out_features",
        "training.optimizer.lr",
    ]
    report = SweepReport(folder=None, metric="val/loss", maximize=False, params=paths)  # type: ignore[arg-type]
    report.importances = {paths[0]: 0.5, paths[1]: 0.3, paths[2]: 0.2}
    lines = importance_lines(report, 74, 8, 4)  # the pane's room in an 80-column terminal
    assert [line.split()[0] for line in lines] == paths
    assert all(len(line) <= 74 and "█" * 5 in line for line in lines)
