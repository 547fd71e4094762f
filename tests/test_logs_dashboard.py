"""Other tools' runs in the dashboard: listed, filtered, opened, followed live, compared.

The logs are written in each test by the writers people use (tensorboardX's and
torch's SummaryWriter, a Lightning-style metrics.csv with gaps, a Keras CSV),
then the real app is driven with Textual's pilot.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from test_run_view import open_run, screen_text
from textual.app import App
from tui_runs import make_app, make_run, run_async, settle, spirals_toml

from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.compare import CompareScreen
from dltui.tui.screens.run import RunScreen
from dltui.tui.screens.run_panes import CurvesPane
from dltui.tui.widgets import LinePlot
from dltui.tui.widgets.diff_pane import DiffPane
from dltui.tui.widgets.log_panes import LogOutput, LogOverviewPane, NotRecordedPane

tensorboardX = pytest.importorskip("tensorboardX")

HOSTILE = "\x1b]2;pwned\x07[b]bold[/b]"


def write_tb(folder: Path, steps: int = 50, *, hostile: bool = False) -> Path:
    """A run of tensorboardX's SummaryWriter (torch's for ``hostile`` tags: tensorboardX
    rewrites odd characters in tag names, torch's keeps them): losses, an accuracy, a text."""
    if hostile:
        from torch.utils.tensorboard import SummaryWriter

        writer: Any = SummaryWriter(str(folder))
    else:
        writer = tensorboardX.SummaryWriter(str(folder))
    for step in range(steps):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        if step % 5 == 0:
            writer.add_scalar("Loss/test", 1.2 / (step + 1), step)
            writer.add_scalar("Accuracy/test", step / steps, step)
        if hostile:
            writer.add_scalar(HOSTILE, float(step), step)
    writer.add_text("notes", "lr warm-up [red]done[/red] \x1b[2J", 3)
    writer.close()
    return folder


def write_lightning_csv(folder: Path) -> Path:
    """A Lightning CSVLogger version folder: train rows and validation rows with gaps."""
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text(
        "epoch,step,train_loss_step,val_loss,train_loss_epoch\n"
        "0,4,0.9,,\n0,9,0.8,,\n0,9,,0.85,0.82\n1,14,0.7,,\n1,19,0.6,,\n1,19,,0.65,0.62\n"
    )
    (folder / "hparams.yaml").write_text("lr: 0.1\nhidden: 32\n")
    return folder


def write_keras_csv(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("epoch,loss,mae,val_loss,val_mae\n0,2.0,1.1,2.1,1.2\n1,1.5,0.9,1.7,1.0\n")
    return path


def log_app(tmp_path: Path, logs: Path, **options: Any):
    return make_app(tmp_path, logdirs=[logs], **options)


async def _listed(pilot: Any) -> BrowserScreen:
    app = pilot.app
    await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


def _rows(app: App[Any]) -> str:
    return screen_text(app)


@run_async
async def test_foreign_runs_are_listed_beside_dltui_runs_marked_and_filterable(
    tmp_path: Path,
) -> None:
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    logs = tmp_path / "logs"
    write_tb(logs / "tb" / "run1")
    write_lightning_csv(logs / "pl" / "version_0")
    write_keras_csv(logs / "keras" / "training.log")
    app = log_app(tmp_path, logs)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _listed(pilot)
        sources = {run.run_id: run.source for run in browser.catalog.runs}  # type: ignore[union-attr]
        assert sources == {
            "20260101-000000-aaaa": None,
            "run1": "tensorboard",
            "version_0": "lightning-csv",
            "training.log": "keras-csv",
        }
        text = _rows(app)
        assert "run1 · tb" in text and "version_0 · csv" in text and "training.log · csv" in text
        assert "20260101-000000-aaaa" in text
        await pilot.press("slash", *"tb", "enter")
        await pilot.pause(0.1)
        assert [run.run_id for run in browser.visible_runs()] == ["run1"]
        await pilot.press("escape")
        browser.query_one("#filter").value = "csv"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert sorted(run.run_id for run in browser.visible_runs()) == [
            "training.log",
            "version_0",
        ]


@run_async
async def test_a_tensorboard_run_opens_in_the_run_view_and_says_what_it_does_not_record(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    run = write_tb(logs / "tb" / "run1", hostile=True)
    app = log_app(tmp_path, logs)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_run(pilot, run)
        curves = screen.query_one(CurvesPane)
        titles = {plot.title: plot.tags for plot in curves.plots}
        assert set(titles["Loss"]) == {"Loss/train", "Loss/test"}
        assert titles["Accuracy"] == ("Accuracy/test",)
        loss = next(p for p in curves.plots if p.title == "Loss")
        assert sorted(len(s.step) for s in loss.series) == [10, 50]
        for pane_id, words in (
            ("gradients", "Per-layer gradient norms: not recorded by TensorBoard"),
            ("stopping", "Early stopping: not recorded by TensorBoard"),
            ("system", "System metrics (CPU, memory, GPU): not recorded by TensorBoard"),
            ("samples", "Samples: not recorded by TensorBoard"),
        ):
            pane = screen.query_one(f"#pane-{pane_id}", NotRecordedPane)
            assert pane.message.startswith(words)
        assert isinstance(screen.query_one("#pane-overview"), LogOverviewPane)
        text = screen_text(app)
        assert "not recorded by TensorBoard" in text
        # The hostile tag is a plot title and a legend: shown as text, never obeyed.
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]2;pwned␇[b]bold[/b]" in text
        await pilot.press("6")  # the Output pane: the text summary, as text
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "] notes" in text and "lr warm-up [red]done[/red] ␛[2J" in text
        await pilot.press("S")
        await pilot.pause(0.1)
        assert any("Stop does not apply" in n.message for n in app._notifications)
        await pilot.press("R")
        await pilot.pause(0.1)
        assert any("Resume does not apply" in n.message for n in app._notifications)
        for key in ("L", "x", "s", "c", "left", "z"):  # the plot keys all work here
            await pilot.press(key)
        await pilot.pause(0.1)
        assert isinstance(app.screen, RunScreen) and screen.log_y and screen.cursor_on


@run_async
async def test_every_pane_of_a_csv_run_shows_something_at_80x24(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run = write_lightning_csv(logs / "pl" / "version_0")
    app = log_app(tmp_path, logs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, run)
        curves = screen.query_one(CurvesPane)
        plots = {plot.title: plot.tags for plot in curves.plots}
        # epoch is each point's epoch, not a curve; the gaps leave each column its own points
        assert plots == {"loss": ("train_loss_epoch", "train_loss_step", "val_loss")}
        loss = curves.plots[0]
        assert [s.step.tolist() for s in loss.series] == [[9, 19], [4, 9, 14, 19], [9, 19]]
        for number in range(1, 8):
            await pilot.press(str(number))
            await pilot.pause(0.1)
            text = screen_text(app).strip()
            body = [line for line in text.splitlines()[2:-1] if line.strip(" │─╭╮╰╯")]
            assert body, f"pane {number} is blank"
        await pilot.press("2")
        await pilot.pause(0.1)
        assert "hidden = 32" in screen_text(app) and "lr = 0.1" in screen_text(app)
        await pilot.press("1", "x", "x")  # step, epoch, time: a CSV log records no times
        await pilot.pause(0.2)
        assert screen.x_axis == "time"
        assert "no time recorded for these series" in screen_text(app)


@run_async
async def test_a_live_summary_writer_is_followed(tmp_path: Path) -> None:
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    logs = tmp_path / "logs"
    folder = logs / "live"
    writer = torch_tb.SummaryWriter(str(folder), flush_secs=1)
    for step in range(10):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step)
    writer.flush()
    app = log_app(tmp_path, logs)  # the dashboard's own follow interval (0.1 s)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_run(pilot, folder)
            plot = screen.query_one(CurvesPane).plots[0]
            assert len(plot.series[0].step) == 10
            for round_ in range(3):
                for step in range(10 + round_ * 5, 15 + round_ * 5):
                    writer.add_scalar("train/loss", 1.0 / (step + 1), step)
                writer.flush()  # the points reach the file now
                flushed = time.monotonic()
                want = 15 + round_ * 5
                while len(plot.series[0].step) < want and time.monotonic() - flushed < 5:
                    await asyncio.sleep(0.01)
                assert len(plot.series[0].step) == want
    finally:
        writer.close()
    # Within 0.5 s of the flush: the follower reads the file at this interval; the
    # latency itself is measured by bench/bench_tensorboard.py, not timed here
    # (a loaded CI machine would make a timed assertion flaky).
    assert app.follow_interval <= 0.5


@run_async
async def test_compare_a_tensorboard_run_with_a_dltui_run(tmp_path: Path) -> None:
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa",
             experiment_text=spirals_toml(lr=0.01))  # fmt: skip
    logs = tmp_path / "logs"
    folder = logs / "tb" / "run1"
    from torch.utils.tensorboard import SummaryWriter

    # torch's writer: tensorboardX's add_hparams(name=".") opens a second writer whose file
    # has the same name as the first one's, and one of them is lost.
    writer = SummaryWriter(str(folder))
    for step in range(20):
        writer.add_scalar("Loss/train", 2.0 / (step + 1), step)  # torch's tutorial spelling
    writer.add_hparams({"lr": 0.5, "optimizer": "adam"}, {"hparam/loss": 0.1}, run_name=".")
    writer.close()
    app = log_app(tmp_path, logs)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _listed(pilot)
        browser.table.select(f"run:{tmp_path / 'runs' / 'spirals' / '20260101-000000-aaaa'}")
        await pilot.press("space")
        browser.table.select(f"run:{folder}")
        await pilot.press("space", "c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.tags))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        # One metric, however each tool spells it, under the first run's name.
        assert "train/loss" in screen.tags and "Loss/train" not in screen.tags
        screen.tag = "train/loss"
        await pilot.pause(0.1)
        plot = screen.query_one("#compare-plot", LinePlot)
        assert sorted(len(s.step) for s in plot.series) == [20, 50]
        assert any(s.label.endswith("(Loss/train)") for s in plot.series)
        rows = dict(screen.query_one(DiffPane).rows)
        assert rows["lr"] == ["—", "0.5"] and rows["optimizer"] == ["—", '"adam"']
        assert rows["training.optimizer.lr"] == ["0.01", "—"]


@run_async
async def test_stop_resume_and_delete_in_the_browser_say_they_do_not_apply(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    folder = write_tb(logs / "tb" / "run1")
    missing = tmp_path / "not-there"
    app = make_app(tmp_path, logdirs=[logs, missing])
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _listed(pilot)
        await pilot.pause(0.1)
        # A log folder that is not there is said once, naming it; the others are listed.
        told = [n.message for n in app._notifications if str(missing) in n.message]
        assert len(told) == 1 and "cannot be read" in told[0]
        browser.table.select(f"run:{folder}")
        await pilot.press("S", "R", "D")
        await pilot.pause(0.1)
        messages = [n.message for n in app._notifications]
        assert any("Stop does not apply" in m and "TensorBoard" in m for m in messages)
        assert any("Resume does not apply" in m for m in messages)
        assert any("never removes them" in m for m in messages)
        assert folder.is_dir() and list(folder.iterdir())


@run_async
async def test_a_new_log_folder_appears_in_the_list_by_itself(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_tb(logs / "tb" / "run1", steps=3)
    app = log_app(tmp_path, logs, watch=True, poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _listed(pilot)
        await pilot.pause(0.6)  # the watcher starts after the first paint
        write_tb(logs / "tb" / "run2", steps=3)
        await settle(
            pilot,
            lambda: "run2" in {r.run_id for r in browser.catalog.runs},  # type: ignore[union-attr]
            timeout=15,
        )


@run_async
async def test_a_bad_settings_file_is_told_with_its_line_and_the_app_keeps_running(
    tmp_path: Path,
) -> None:
    from dltui.settings import load_settings

    config = tmp_path / "settings.toml"
    config.write_text('# mine\nlogdirs = ["a",\n')
    settings = load_settings(config)
    app = make_app(tmp_path, settings_problems=settings.problems)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.pause(0.1)
        messages = [n.message for n in app._notifications]
        assert any(str(config) in m and "line 2" in m for m in messages), messages
        assert isinstance(app.screen, BrowserScreen)


def test_the_watcher_reports_new_log_files_not_every_append(tmp_path: Path) -> None:
    from dltui.tui.watch import DirectoryWatcher

    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    growing = logs / "a" / "events.out.tfevents.1.host"
    growing.write_bytes(b"x")
    seen: list[frozenset[Path]] = []
    watcher = DirectoryWatcher([("logs", logs)], lambda _k, _r, paths: seen.append(paths))
    watcher.start()
    try:
        time.sleep(0.3)
        for _ in range(5):
            with growing.open("ab") as handle:
                handle.write(b"more")
            time.sleep(0.05)
        (logs / "b").mkdir()
        deadline = time.monotonic() + 10
        while not any(logs / "b" in paths for paths in seen):
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
        time.sleep(0.2)
        assert not any(growing in paths for paths in seen), seen
    finally:
        watcher.stop()


def test_the_follower_sees_a_log_grow_between_its_polls(tmp_path: Path) -> None:
    """A follower stats another tool's files often, so an append is read at once, not at
    the next poll (here 5 s away)."""
    import threading

    from dltui.logs.reader import LogRunReader
    from dltui.logs.runs import log_run_at
    from dltui.tui.watch import RunFollower

    folder = tmp_path / "tb"
    writer = tensorboardX.SummaryWriter(str(folder))
    writer.add_scalar("loss", 1.0, 0)
    writer.flush()
    log = log_run_at(folder)
    assert log is not None
    got = threading.Event()
    follower = RunFollower(LogRunReader(log), lambda changes: got.set(), interval=5.0)
    follower.start()
    try:
        time.sleep(0.3)  # its first poll is behind it
        got.clear()
        writer.add_scalar("loss", 0.5, 1)
        writer.flush()
        assert got.wait(2.0), "the append was not seen before the next poll"
    finally:
        follower.stop()
        writer.close()


@run_async
async def test_a_tensorboard_run_without_text_says_so_in_output_and_names_confusion(
    tmp_path: Path,
) -> None:
    # The Output pane of a run with no add_text showed its heading over an empty pane,
    # and the confusion pane began with its id ("confusion: not recorded").
    logs = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(logs / "tb" / "quiet"))
    for step in range(20):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.close()
    app = log_app(tmp_path, logs)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot, logs / "tb" / "quiet")
        await pilot.press("6")
        await pilot.pause(0.2)
        assert app.screen.query_one("#pane-output", LogOutput).lines == [LogOutput.NONE_YET]
        text = " ".join(screen_text(app).split())
        assert "No text summaries" in text and "oldest first" not in text
        await pilot.press("8")
        await pilot.pause(0.2)
        assert "Confusion matrix: not recorded by TensorBoard" in screen_text(app)
