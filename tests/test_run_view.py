"""Pilot tests of what a person sees in the run view: every pane's content, at real sizes.

Each test opens a run folder written by `RunWriter` in the real app, then reads the
screen as text (what a terminal would show), the way a person would check it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from textual.app import App
from tui_runs import make_app, make_run, run_async, settle

from dltui.runs import RunWriter
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import OpenRun
from dltui.tui.screens.run import RunScreen
from dltui.tui.screens.run_panes import CurvesPane
from dltui.tui.widgets import LinePlot, SamplePane


def screen_text(app: App[Any]) -> str:
    """Everything on screen, as plain text (a no-break space reads as a space)."""
    return "\n".join(
        "".join(segment.text for segment in line).replace("\u00a0", " ")
        for line in app.screen._compositor.render_update(full=True).strips  # type: ignore[attr-defined]
    )


async def open_run(pilot: Any, run_dir: Path) -> RunScreen:
    app = pilot.app
    await settle(pilot)
    app.post_message(OpenRun(run_dir))
    await settle(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None)
    await pilot.pause(0.2)
    screen = app.screen
    assert isinstance(screen, RunScreen)
    return screen


def ring(count: int, modes: int = 8, radius: float = 2.0, seed: int = 0) -> list[list[float]]:
    """Points on ``modes`` Gaussian blobs around a circle (gmm2d's target)."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, count)
    angle = 2 * math.pi * which / modes
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return (points + rng.normal(scale=0.05, size=points.shape)).round(4).tolist()


def gan_run(runs: Path) -> Path:
    """A GAN-like run: losses per step, one reference sample and two generated ones."""
    writer = RunWriter.create(runs, "gan-ring", run_id="20260101-000000-gggg", device="cpu")
    writer.status("running")
    writer.event(
        "sample", format="points", reference=True, epoch=0, step=0, count=500, points=ring(500)
    )
    step = 0
    for epoch in range(1, 5):
        for _ in range(8):
            step += 1
            writer.scalar("train/g_loss", 0.7 + 0.1 * math.sin(step), step, epoch - 1 + step / 40)
            writer.scalar("train/d_loss", 1.3 + 0.1 * math.cos(step), step, epoch - 1 + step / 40)
            writer.scalar("lr", 0.001, step, epoch - 1 + step / 40)
        if epoch % 2 == 0:
            # a collapsed generator: every point near one mode
            points = (np.array(ring(500, seed=epoch)) * 0.1 + [2.0, 0.0]).round(4).tolist()
            writer.event(
                "sample", format="points", epoch=epoch, step=step, count=500, points=points
            )
    writer.close("finished")
    return writer.run_dir


@run_async
async def test_the_samples_pane_draws_generated_points_over_the_real_ones(tmp_path: Path) -> None:
    run = gan_run(tmp_path / "runs")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, run)
        await pilot.press("7")
        await pilot.pause(0.2)
        pane = screen.query_one(SamplePane)
        assert pane.display and pane.region.height > 10  # shown, not hidden by the grid's rule
        text = screen_text(app)
        assert "real data (500)" in text and "generated (500)" in text
        assert "epoch 4" in text and "sample 2 of 2" in text
        braille = sum(1 for ch in text if "\u2801" <= ch <= "\u28ff")
        assert braille > 40  # a scatter, not an empty box
        footer = screen.query_one(KeyFooter).entries()[0]
        assert {"Older", "Newer"} <= {entry.description for entry in footer}
        await pilot.press("comma")
        await pilot.pause(0.1)
        assert "epoch 2" in screen_text(app) and "sample 1 of 2" in screen_text(app)


@run_async
async def test_text_samples_are_wrapped_with_their_line_breaks_newest_first(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "chars", run_id="20260101-000000-tttt")
    writer.status("running")
    for epoch in (1, 2, 3):
        writer.scalar("train/loss", 2.0 / epoch, epoch * 10, epoch)
        text = f"compare thee{epoch}\nto a summer's day?\x1b[2J " + "word " * 40
        writer.event(
            "sample", format="text", epoch=epoch, step=epoch * 10, seed="Shall I ", text=text
        )
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, writer.run_dir)
        await pilot.press("7")
        await pilot.pause(0.2)
        lines = screen_text(app).splitlines()
        text = "\n".join(lines)
        assert "\\n" not in text  # a real line break, not its escape
        assert any(line.strip() == "Shall I compare thee3" for line in lines)
        assert any(line.strip().startswith("to a summer's day?␛[2J") for line in lines)
        assert "\x1b" not in text
        assert text.index("epoch 3") < text.index("epoch 2")  # newest first
        assert all(len(line) <= 80 for line in lines)  # wrapped, not cut
        await pilot.press("comma")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "epoch 3" not in text and "sample 2 of 3" in text


@run_async
async def test_an_empty_samples_pane_says_why(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    kinds = {
        "mlp": (
            {"model": {"kind": "sequential"}, "data": {"source": "spirals"}},
            "this kind of run records none",
        ),
        "gan": (
            {"model": {"kind": "gan"}, "training": {"sample_every": 5}},
            "a GAN records generated samples every 5 epochs",
        ),
        "own": ({}, "this run has recorded no sample events"),
    }
    for name, (config, _) in kinds.items():
        with RunWriter.create(runs, name, run_id="20260101-000000-0000", config=config) as w:
            w.scalar("train/loss", 1.0, 1, 0.5)
    for name, (_, why) in kinds.items():
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_run(pilot, runs / name / "20260101-000000-0000")
            await pilot.press("7")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "no samples yet" in text and why in text, (name, text)
            keys = {entry.description for entry in screen.query_one(KeyFooter).entries()[0]}
            assert "Older" not in keys  # nothing to browse


def plot_shown(screen: RunScreen, plot: LinePlot) -> bool:
    """Whether the whole plot is on screen (displayed, inside the screen's region)."""
    region = plot.region
    return (
        plot.display
        and region.height >= 6
        and screen.region.contains_region(region)
        and "no " not in plot.build_frame(region.width, region.height).text[:40]
    )


@run_async
async def test_every_metric_is_visible_at_once_at_80x24(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, Path(str(run)))
        curves = screen.query_one(CurvesPane)
        titles = [plot.title for plot in curves.plots]
        assert titles == ["Loss", "accuracy", "Learning rate"]
        assert all(plot_shown(screen, plot) for plot in curves.plots), [
            (p.title, p.region) for p in curves.plots
        ]
        text = screen_text(app)
        assert "accuracy" in text and "Learning rate" in text


@run_async
async def test_plots_that_do_not_fit_come_a_page_at_a_time_with_the_key_shown(
    tmp_path: Path,
) -> None:
    writer = RunWriter.create(tmp_path / "runs", "many", run_id="20260101-000000-mmmm")
    names = ["accuracy", "f1", "precision", "recall", "auc"]
    for step in range(1, 41):
        writer.scalar("train/loss", 1 / step, step, step / 10)
        for name in names:
            writer.scalar(f"val/{name}", 1 - 1 / step, step, step // 10)
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, writer.run_dir)
        curves = screen.query_one(CurvesPane)
        assert len(curves.plots) == 6 and curves.pages == 2
        keys = {entry.description for entry in screen.query_one(KeyFooter).entries()[0]}
        assert "More plots" in keys
        first = {plot.title for plot in curves.shown_plots}
        await pilot.press("p")
        await pilot.pause(0.1)
        second = {plot.title for plot in curves.shown_plots}
        assert first | second == {plot.title for plot in curves.plots}
        assert all(plot_shown(screen, plot) for plot in curves.shown_plots)
    async with make_app(tmp_path).run_test(size=(200, 60)) as pilot:
        screen = await open_run(pilot, writer.run_dir)
        curves = screen.query_one(CurvesPane)
        assert curves.pages == 1 and len(curves.shown_plots) == 6  # a bigger grid


@run_async
async def test_legends_show_latest_values_and_a_cursor_shows_values_at_one_x(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", lr=0.003)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, Path(str(run)))
        await pilot.press("z")  # the curves alone, wide
        await pilot.pause(0.1)
        text = screen_text(app)
        # the latest values: val/loss 1.2/(1+0.5*5), accuracy 0.5+0.08*5, lr as set
        assert "val 0.3429" in text and "val 0.9" in text and "lr 0.003" in text
        await pilot.press("c")
        await pilot.pause(0.1)
        curves = screen.query_one(CurvesPane)
        assert curves.cursor_x == 50  # on the newest point first
        await pilot.press("left", "left")
        await pilot.pause(0.1)
        cursor = curves.cursor_x
        assert cursor is not None and cursor < 50
        assert all(plot.cursor_x == cursor for plot in curves.plots)  # one x in every plot
        text = screen_text(app)
        # the last val/loss at or before the cursor (epoch 4 ends at step 40)
        epoch = int(cursor // 10)
        assert f"val {1.2 / (1 + 0.5 * epoch):.4g}" in text
        assert f"{round(cursor):,}" in text  # the cursor's x under the axis
        keys = {entry.description for entry in screen.query_one(KeyFooter).entries()[0]}
        assert "Move" in keys
        await pilot.press("c")
        assert all(plot.cursor_x is None for plot in curves.plots)


@run_async
async def test_a_constant_learning_rate_is_drawn_as_recorded_not_smoothed(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", lr=0.003)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, Path(str(run)))
        lr = screen.query_one("#plot-learning-rate", LinePlot)
        loss = screen.query_one("#plot-loss", LinePlot)
        assert lr.smoothing > 0
        assert [s.smooth for s in lr.series] == [False]
        assert [s.smooth for s in loss.series] == [True, False]  # train per step, val per epoch
        frame = lr.build_frame(60, 12)
        rows = {i for i, row in enumerate(frame.rows) for _, role in row if role == "line:0"}
        assert len(rows) == 1
        assert not any(role.startswith("raw") for row in frame.rows for _, role in row)


@run_async
async def test_the_raw_line_is_marked_secondary_and_can_be_hidden(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, Path(str(run)))
        await pilot.press("z")
        await pilot.pause(0.1)
        assert "faint: raw" in screen_text(app)
        loss = screen.query_one("#plot-loss", LinePlot)
        roles = {role for row in loss.build_frame(100, 20).rows for _, role in row}
        assert "raw:0" in roles
        await pilot.press("r")
        await pilot.pause(0.1)
        roles = {role for row in loss.build_frame(100, 20).rows for _, role in row}
        assert "raw:0" not in roles and "faint: raw" not in screen_text(app)


@run_async
async def test_the_header_keeps_the_plot_settings_at_80x24(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals-with-a-long-name", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, Path(str(run)))
        await pilot.press("L", "x")
        await pilot.pause(0.1)
        header = screen_text(app).splitlines()[0]
        assert "log y" in header and "x:epoch" in header and "finished" in header
        assert "smooth 0.6" in header


@run_async
async def test_the_footer_never_cuts_a_key_and_always_offers_help(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    for width in (60, 80, 120):
        app = make_app(tmp_path)
        async with app.run_test(size=(width, 24)) as pilot:
            screen = await open_run(pilot, Path(str(run)))
            await pilot.press("c")
            await pilot.pause(0.1)
            footer = screen.query_one(KeyFooter)
            lines = screen_text(app).splitlines()[-footer.region.height :]
            drawn = [e for _, _, _, e in footer._spans]
            assert any(e.description == "Help" for e in drawn)
            for entry in drawn:
                assert any(f"{entry.display} {entry.description}" in line for line in lines), (
                    width,
                    entry,
                    lines,
                )


@run_async
async def test_epochs_are_rounded_for_reading(tmp_path: Path) -> None:
    writer = RunWriter.create(
        tmp_path / "runs",
        "long",
        run_id="20260101-000000-eeee",
        config={"training": {"epochs": 150}},
    )
    writer.status("running", step=10, epoch=10 / 11)
    writer.scalar("train/loss", 0.5, 10, 10 / 11)
    writer.flush()
    app = make_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await open_run(pilot, writer.run_dir)
            text = screen_text(app)
            assert "epoch 0.9/150" in text
            assert "0.909" not in text
    finally:
        writer.close("finished")


@run_async
async def test_system_pane_says_whose_cpu_and_memory_it_shows(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "sys", run_id="20260101-000000-ssss")
    for i in range(5):
        writer.scalar("train/loss", 1.0, i, i / 5)
        writer.scalar("system/cpu_percent", 40.0 + i, i)
        writer.scalar("system/ram_used", 3e9, i)
        writer.scalar("system/process_rss", 4e8, i)
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, writer.run_dir)
        await pilot.press("5")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "host CPU" in text and "host RAM" in text and "run RAM" in text
        assert "host: the whole machine" in text and "run: the training process" in text
        assert "381.5 MiB" in text  # the process's own memory


@run_async
async def test_the_gradient_legend_stays_under_the_strips(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "gan", run_id="20260101-000000-gggg")
    for step in range(1, 30):
        writer.scalar("train/g_loss", 1.0, step, step / 10)
        for label in ("generator/0_dense", "discriminator/4_dense"):
            writer.scalar(f"grad_norm/{label}", 0.1 * step, step)
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:  # the grid: a third of the width
        await open_run(pilot, writer.run_dir)
        lines = screen_text(app).splitlines()
        legend = [line for line in lines if "shade = log10" in line]
        assert len(legend) == 1 and "log10 norm, 0.141 … 2.8" in legend[0], lines
        assert not any("│ norm," in line for line in lines)  # not wrapped to the left edge


@run_async
async def test_long_output_lines_wrap_and_escapes_are_shown_not_obeyed(tmp_path: Path) -> None:
    run = Path(str(make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")))
    long = "epoch 7/40  " + "  ".join(f"metric{i} 0.{i}234" for i in range(20)) + "  END"
    (run / "output.log").write_text(
        f"start\n\x1b]2;pwned\x07title\n\x1b[2J\x1b[Hcleared\n[red]markup[/red]\n{long}\n",
        encoding="utf-8",
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, run)
        await pilot.press("6")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]2;pwned␇title" in text and "␛[2J␛[Hcleared" in text
        assert "[red]markup[/red]" in text
        assert "END" in text  # the end of the long line, wrapped into view
        for i in range(20):
            assert f"0.{i}234" in text  # no number split across rows


@run_async
async def test_a_status_reason_with_escapes_is_shown_as_text(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "bad", run_id="20260101-000000-bbbb")
    writer.scalar("train/loss", 1.0, 1, 0.1)
    writer.close("failed", reason="boom \x1b]2;pwned\x07 [b]not bold[/b]")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot, writer.run_dir)
        await pilot.press("2", "z")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "\x1b" not in text and "boom ␛]2;pwned␇ [b]not bold[/b]" in text


@run_async
async def test_the_overview_shows_the_final_test(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "clf", run_id="20260101-000000-cccc")
    writer.scalar("train/loss", 0.5, 10, 1.0)
    writer.event("test", weights="best (epoch 3)", epoch=3, **{"test/loss": 0.25,
                 "test/accuracy": 0.9712})  # fmt: skip
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, writer.run_dir)
        await pilot.press("2")
        await pilot.pause(0.1)
        assert "test on best (epoch 3): loss 0.25 accuracy 0.9712" in screen_text(app)


@run_async
async def test_compare_shows_every_run_s_value_and_single_values_as_numbers(
    tmp_path: Path,
) -> None:
    from tui_runs import spirals_toml, write_experiment

    from dltui.tui.screens.compare import CompareScreen

    write_experiment(tmp_path / "experiments", "spirals")
    runs = tmp_path / "runs"
    hostile = 'description = "evil \\u001b]2;pwned\\u0007 [b]x[/b]"\n'
    texts = {
        "20260101-000000-aaaa": spirals_toml(lr=0.0123456, hidden=8),
        "20260101-010000-bbbb": hostile + spirals_toml(lr=0.0987654, hidden=256).split("\n", 1)[1],
    }
    for run_id, text in texts.items():
        path = make_run(runs, "spirals", run_id, experiment_text=text)
        with RunWriter.open(Path(str(path))) as writer:
            writer.scalar("test/accuracy", 0.9712 if "aaaa" in run_id else 0.8456, 99, 5)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await pilot.press("j", "space", "space", "c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.tags))
        await pilot.pause(0.2)
        text = screen_text(app)
        for value in ("0.0123456", "0.0987654", "8", "256"):
            assert value in text, text
        assert "\x1b" not in text and "␛]2;pwned␇ [b]x[/b]" in text
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        plot = screen.query_one("#compare-plot", LinePlot)
        assert plot.smoothing > 0 and not plot.show_raw  # one line per run
        while screen.tag != "test/accuracy":
            await pilot.press("t")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "0.9712" in text and "0.8456" in text  # numbers, not two dots


@run_async
async def test_a_curve_key_on_another_pane_brings_the_curves_back(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, Path(str(run)))
        await pilot.press("4")
        keys = {entry.description for entry in screen.query_one(KeyFooter).entries()[0]}
        assert "Log y" not in keys  # not offered while the gradients fill the view
        await pilot.press("L")
        assert screen.active_pane == "curves" and screen.log_y
        assert all(plot.log_y for plot in screen.query_one(CurvesPane).plots)


@run_async
async def test_names_from_the_run_files_are_shown_not_obeyed_in_every_pane(
    tmp_path: Path,
) -> None:
    evil = "\x1b]2;pwned\x07"
    writer = RunWriter.create(tmp_path / "runs", "names", run_id="20260101-000000-nnnn")
    for step in range(1, 21):
        writer.scalar("train/loss", 1 / step, step, step / 10)
        writer.scalar(f"val/acc{evil}", 0.5, step, step // 10)
        writer.scalar(f"grad_norm/layer{evil}", 0.1, step)
    writer.event("early_stopping", monitor=f"val/loss{evil}", value=0.5, best=0.4,
                 best_epoch=f"1{evil}", wait=1, patience=3, stopped=True,
                 reason=f"why{evil}")  # fmt: skip
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await open_run(pilot, writer.run_dir)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert text.count("␛]2;pwned␇") >= 4  # plot title, gradients, monitor, reason


@run_async
async def test_compare_reports_an_unreadable_frozen_experiment_and_carries_on(
    tmp_path: Path,
) -> None:
    from tui_runs import write_experiment

    from dltui.tui.screens.compare import CompareScreen

    write_experiment(tmp_path / "experiments", "spirals")
    runs = tmp_path / "runs"
    good = Path(str(make_run(runs, "spirals", "20260101-000000-aaaa")))
    bad = Path(str(make_run(runs, "spirals", "20260101-010000-bbbb")))
    (bad / "experiment.toml").write_text("x = " + "[" * 600 + "\n[oops", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await pilot.press("j", "space", "space", "c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.tags))
        await pilot.pause(0.2)
        messages = [n.message for n in app._notifications]
        assert any(str(bad / "experiment.toml") in m and "nested" in m for m in messages)
        assert good.exists()


DIGITS_MATRIX = [
    [27, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 21, 4, 0, 0, 0, 2, 0, 0, 1],
    [0, 0, 23, 1, 0, 0, 0, 1, 1, 0],
    [0, 0, 0, 28, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 26, 0, 1, 0, 0, 0],
    [0, 0, 0, 3, 0, 24, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 27, 0, 0, 0],
    [0, 0, 0, 0, 2, 0, 0, 25, 0, 0],
    [0, 5, 0, 5, 0, 1, 0, 0, 114, 1],
    [0, 1, 0, 3, 1, 0, 0, 2, 0, 20],
]


@run_async
async def test_the_confusion_pane_shows_the_final_test_s_matrix(tmp_path: Path) -> None:
    from rich.text import Text

    from dltui.report.confusion import confusion_fields
    from dltui.tui.widgets import ConfusionPane

    config = {"training": {"loss": "cross_entropy"}, "data": {"source": "digits"}}
    writer = RunWriter.create(tmp_path / "runs", "cnn-digits", run_id="20260101-000000-cccc",
                              device="cpu", config=config)  # fmt: skip
    writer.status("running")
    writer.scalar("train/loss", 1.0, 1, 0.5)
    writer.flush()
    classes = [str(digit) for digit in range(10)]
    try:
        for size in ((80, 24), (120, 40), (200, 60)):
            app = make_app(tmp_path)
            async with app.run_test(size=size) as pilot:
                screen = await open_run(pilot, writer.run_dir)
                await pilot.press("8")
                await pilot.pause(0.1)
                pane = screen.query_one("#pane-confusion", ConfusionPane)
                assert screen.active_pane == "confusion" and screen.single
                text = screen_text(app)
                assert "8 Confusion" in text  # its key, in the tab line
                if size == (80, 24):
                    assert "no confusion matrix yet (recorded at the final test)" in text, text
                    writer.event("confusion", split="test", weights="best (epoch 6)", epoch=6,
                                 **confusion_fields(DIGITS_MATRIX, classes))  # fmt: skip
                    writer.flush()
                    await settle(pilot, lambda pane=pane: pane.confusion is not None)
                    await pilot.pause(0.1)
                    text = screen_text(app)
                lines = text.splitlines()
                # Every class, every count whole; the scores beside the row.
                row8 = next(line for line in lines if line.strip().startswith("8 "))
                assert row8.split()[:11] == ["8", "·", "5", "·", "5", "·", "1", "·", "·",
                                             "114", "1"], (size, text)  # fmt: skip
                assert "0.905" in row8 and "0.991" in row8  # recall 114/126, precision 114/115
                assert "accuracy" in text and "best (epoch 6)" in text
                assert "most confused (true → predicted):" in text and "8 → 1 ×5" in text
                # Mistakes are shaded apart from the diagonal: a background, in bold.
                drawn = pane.render()
                assert isinstance(drawn, Text)
                styles = {drawn.plain[span.start : span.end].strip(): span.style
                          for span in drawn.spans}  # fmt: skip
                mistake, right = styles["5"], styles["114"]
                assert not isinstance(mistake, str) and not isinstance(right, str)
                assert mistake.bgcolor is not None and mistake.bold
                assert right.bgcolor is not None and mistake.bgcolor != right.bgcolor
    finally:
        writer.close("finished")


@run_async
async def test_a_gan_s_overview_and_gradients_read_in_the_grid(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "gan-ring", run_id="20260101-000000-hhhh")
    for part, params in (("generator", 4866), ("discriminator", 4417)):
        rows = [{"index": i, "label": f"{i}_dense", "type": "dense", "out_shape": [64],
                 "params": params // 5} for i in range(5)]  # fmt: skip
        writer.event("model", rows=rows, total_params=params, trainable_params=params,
                     input_shape=[2], part=part)  # fmt: skip
        for i in range(0, 5, 2):
            for step in range(1, 20):
                writer.scalar(f"grad_norm/{part}/{i}_dense", 0.1 * (1 + i) / step, step)
    writer.scalar("train/g_loss", 0.7, 19, 1.0)
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(pilot, writer.run_dir)
        assert not screen.single
        text = screen_text(app)
        # The grid cells are small: the totals of both networks stay in view ...
        assert "generator 4,866 · discriminator" in text and "9,283 parameters in all" in text
        # ... and every gradient row says which layer it is.
        for part in ("genera", "discri"):
            for i in (0, 2, 4):
                assert f"{part}…/{i}_dense" in text, text


@run_async
async def test_side_by_side_plots_do_not_read_as_one_heading(tmp_path: Path) -> None:
    # The loss plot's note ended one cell before the next plot's title, and read as
    # "faint: raw accuracy" (a raw accuracy?) across the two.
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot, Path(str(run)))
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "(faint: raw)" in text
        assert "faint: raw accuracy" not in text and "(faint: raw) accuracy" not in text


@run_async
async def test_the_layer_table_stays_whole_when_the_terminal_grows(tmp_path: Path) -> None:
    # Widened from 120 to 200 columns, the overview added its type column but kept the
    # headings' widths: "0_den  dens" with forty blank columns beside them.
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot, Path(str(run)))
        await pilot.resize_terminal(200, 60)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "0_dense  dense" in text and "2_dense  dense" in text, text


@run_async
async def test_the_gradient_legend_gives_a_narrow_range_two_ends(tmp_path: Path) -> None:
    # Norms from 0.0189 to 0.0287 were labelled "1e-2 … 1e-2": one decade, twice.
    writer = RunWriter.create(tmp_path / "runs", "gru", run_id="20260101-000000-nnnn")
    for step in range(1, 30):
        writer.scalar("train/loss", 1.0, step, step / 10)
        writer.scalar("grad_norm/0_gru", 0.0189, step)
        writer.scalar("grad_norm/1_dense", 0.0287, step)
    writer.close("finished")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(pilot, writer.run_dir)
        legend = [line for line in screen_text(app).splitlines() if "shade = log10" in line]
        assert len(legend) == 1 and "0.0189 … 0.0287" in legend[0], legend


@run_async
async def test_the_header_at_80x24_names_the_experiment(tmp_path: Path) -> None:
    # With a long experiment name the header kept the run id (a timestamp) and dropped the
    # experiment, and at 80x24 the Overview that names it is not on screen.
    run = make_run(tmp_path / "runs", "transformer-chars", "20261201-173406-7b51")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(pilot, Path(str(run)))
        await pilot.press("7")
        await pilot.pause(0.1)
        header = screen_text(app).splitlines()[0]
        assert "transformer-chars" in header and "finished" in header, header
        assert "smooth 0.6" in header and "x:step" in header, header


@run_async
async def test_compare_plot_stands_off_its_border_as_the_run_view_does(tmp_path: Path) -> None:
    # The compare plot's title and y labels touched its border ("│val/loss", "│0.04┤").
    from tui_runs import write_experiment

    from dltui.tui.screens.compare import CompareScreen

    write_experiment(tmp_path / "experiments", "spirals")
    for run_id in ("20260101-000000-aaaa", "20260101-010000-bbbb"):
        make_run(tmp_path / "runs", "spirals", run_id)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await pilot.press("j", "space", "space", "c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.tags))
        await pilot.pause(0.2)
        lines = screen_text(app).splitlines()
        title = next(line for line in lines if "val/loss" in line and line.startswith("│"))
        assert "│ val/loss" in title and "│val/loss" not in title, title


@run_async
async def test_the_overview_says_the_run_first_and_why_it_ended_below(tmp_path: Path) -> None:
    # "✔ FINISHED (early stopping: no improvement in 30 epochs (patience 30); best …) mlp"
    # put the experiment and device after a long reason, in brackets within brackets.
    reason = "early stopping: no improvement in 30 epochs (patience 30); best val/loss = 0.1"
    writer = RunWriter.create(tmp_path / "runs", "spirals", run_id="20260101-000000-dddd")
    writer.scalar("train/loss", 1.0, 1, 0.1)
    writer.close("finished", reason=reason)
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await open_run(pilot, writer.run_dir)
        from dltui.tui.widgets.overview_pane import OverviewPane

        first = next(line for line in screen_text(app).splitlines() if "FINISHED" in line)
        assert "FINISHED  spirals" in first and "(early" not in first, first
        facts = app.screen.query_one(OverviewPane).facts_text().plain.splitlines()
        assert facts[1] == reason, facts
