"""The dashboard's panes, mounted in a small app: the words they show for given data."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from dltui.runs import RunReader, RunWriter
from dltui.tui.widgets import (
    EarlyStoppingPane,
    GradNormPane,
    LayerNorms,
    LinePlot,
    OutputLog,
    OverviewPane,
    PlotSeries,
    RunSummary,
    SamplePane,
    SystemPane,
    assign_colors,
)
from dltui.tui.widgets.grad_norm_pane import classify

STOPPING = {
    "epoch": 12,
    "monitor": "val/loss",
    "value": 0.3412,
    "best": 0.3011,
    "best_epoch": 9,
    "wait": 3,
    "patience": 5,
    "mode": "min",
    "min_delta": 0.001,
    "baseline": None,
    "stopping_threshold": 0.1,
    "divergence_threshold": None,
    "stopped": False,
    "reason": None,
}


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class PaneApp(App[None]):
    """One pane, full screen."""

    def __init__(self, pane: Widget) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield self.pane


def screen_text(app: App[Any]) -> str:
    """Everything on screen, as plain text (a no-break space reads as a space)."""
    return "\n".join(
        "".join(segment.text for segment in line).replace("\u00a0", " ")
        for line in app.screen._compositor.render_update(full=True).strips  # type: ignore[attr-defined]
    )


async def shown(pane: Widget, size: tuple[int, int] = (80, 24)) -> str:
    app = PaneApp(pane)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return screen_text(app)


def series(n: int, label: str = "train/loss", **kw: Any) -> PlotSeries:
    step = np.arange(n)
    return PlotSeries(label, np.exp(-step / max(n, 1)), step, step / 100, 1e9 + step * 0.5, **kw)


# ---------------------------------------------------------------------- LinePlot


@sync
async def test_line_plot_shows_title_legend_and_axis() -> None:
    plot = LinePlot("loss")
    plot.set_series([series(5000), series(50, "val/loss")])
    text = await shown(plot, (60, 14))
    assert "loss" in text and "train/loss" in text and "val/loss" in text
    assert "step" in text
    assert any("\u2800" < ch <= "\u28ff" for ch in text)  # braille dots were drawn


@sync
async def test_line_plot_empty_state_and_toggles() -> None:
    plot = LinePlot(tags=["val/loss"])
    app = PaneApp(plot)
    async with app.run_test(size=(50, 10)) as pilot:
        await pilot.pause()
        assert "no val/loss yet" in screen_text(app)
        plot.set_series([series(300)])
        plot.x_axis = "time"
        plot.log_y = True
        plot.smoothing = 5.0  # clamped, not an error
        await pilot.pause()
        assert plot.smoothing == 0.99
        text = screen_text(app)
        assert "time" in text and "no val/loss yet" not in text
        assert plot.cycle_x_axis() == "step"


@sync
async def test_line_plot_at_38x8_is_still_a_plot() -> None:
    plot = LinePlot("acc")
    plot.set_series([series(1000)])
    text = await shown(plot, (38, 8))
    assert "┤" in text and "train/loss" in text


def test_series_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="step has 2 points"):
        PlotSeries("x", np.ones(3), np.arange(2))


def test_colours_are_stable_and_distinct() -> None:
    first = assign_colors(["run-a", "run-b", "run-c"])
    again = assign_colors(["run-c", "run-a", "run-b"])
    assert first == again
    assert len(set(first.values())) == 3


@sync
async def test_line_plot_reads_a_real_run(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path, "exp", device="cpu")
    for step in range(100):
        writer.scalar("train/loss", 1 / (step + 1), step, step / 10)
    writer.close(status="finished")
    reader = RunReader(writer.run_dir)  # reads what is there already
    plot = LinePlot("loss", tags=["train/loss", "val/loss"])
    app = PaneApp(plot)
    async with app.run_test(size=(60, 12)) as pilot:
        plot.update_from(reader)  # first load: no poll result
        await pilot.pause()
        assert [s.label for s in plot.series] == ["train/loss"]
        before = plot.series
        plot.update_from(reader, reader.poll())  # nothing new: no reload
        assert plot.series is before
        assert "train/loss" in screen_text(app)


# ------------------------------------------------------------- EarlyStoppingPane


@sync
async def test_early_stopping_gauge_and_settings() -> None:
    pane = EarlyStoppingPane()
    pane.show(STOPPING)
    text = await shown(pane)
    assert "val/loss" in text and "wait 3/5" in text
    assert "0.3011" in text and "at epoch 9" in text
    assert "min_delta 0.001" in text and "stop at 0.1" in text
    assert "STOPPED" not in text


@sync
async def test_early_stopping_shows_the_reason_once_stopped() -> None:
    pane = EarlyStoppingPane()
    pane.show({**STOPPING, "wait": 5, "stopped": True, "reason": "no improvement in 5 epochs"})
    text = await shown(pane)
    assert "wait 5/5" in text and "STOPPED" in text and "no improvement in 5 epochs" in text


@sync
async def test_early_stopping_not_configured() -> None:
    assert "early stopping not configured" in await shown(EarlyStoppingPane())
    pane = EarlyStoppingPane()
    pane.show(None, {"monitor": "val/accuracy"})
    assert "waiting for its first value" in await shown(pane)


# ------------------------------------------------------------------ GradNormPane


def test_classify_flags_vanishing_and_exploding() -> None:
    assert classify([1e-2] * 10 + [1e-9]) == "vanishing"
    assert classify([1.0] * 10 + [5e3]) == "exploding"
    assert classify([1.0] * 10 + [1e-4]) == "dropping"
    assert classify([1e-3] * 10 + [10.0]) == "jumping"
    assert classify([1.0, np.nan]) == "non-finite"
    assert classify([0.5, 0.4, 0.6, 0.5]) is None
    assert classify([]) is None


@sync
async def test_grad_norm_pane_flags_layers_in_words() -> None:
    pane = GradNormPane()
    healthy = np.geomspace(1.0, 0.1, 200)
    vanishing = np.geomspace(1e-2, 1e-9, 200)
    pane.show(
        [LayerNorms("0_linear", healthy), LayerNorms("1_relu_stack_deep", vanishing)],
        total=np.geomspace(2.0, 0.2, 200),
    )
    text = await shown(pane, (90, 10))
    lines = text.splitlines()
    vanishing_line = next(line for line in lines if "1_relu_stack_deep" in line)
    healthy_line = next(line for line in lines if "0_linear" in line)
    assert "vanishing" in vanishing_line and "⚠" in vanishing_line
    assert "⚠" not in healthy_line
    assert any(line.startswith(" total") or "total" in line for line in lines)
    assert "log10 norm" in text


@sync
async def test_grad_norm_pane_empty() -> None:
    assert "no gradient norms recorded" in await shown(GradNormPane())


# ------------------------------------------------------------------ OverviewPane


@sync
async def test_overview_shows_status_progress_and_layers() -> None:
    pane = OverviewPane()
    pane.show_summary(
        RunSummary(
            state="running",
            experiment="mnist-mlp",
            device="cuda:0",
            epoch=3,
            epochs=10,
            step=1500,
            eta_seconds=420,
            throughput=12345,
            memory_allocated=1.5 * 2**30,
            lr=3e-4,
            best_name="val/loss",
            best_value=0.2345,
            best_epoch=2,
        )
    )
    pane.show_model(
        {
            "rows": [
                {
                    "index": 0,
                    "label": "0_flatten",
                    "type": "flatten",
                    "out_shape": [784],
                    "params": 0,
                },
                {
                    "index": 1,
                    "label": "fc1",
                    "type": "linear",
                    "out_shape": [128],
                    "params": 100480,
                },
            ],
            "total_params": 100480,
            "trainable_params": 100480,
            "input_shape": [1, 28, 28],
        }
    )
    text = await shown(pane, (100, 20))
    for words in ("RUNNING", "mnist-mlp", "cuda:0", "epoch 3/10", "step 1,500", "ETA 7m",
                  "12.3k samples/s", "1.5 GiB", "lr 3e-4", "0.2345", "fc1", "linear",
                  "(128,)", "100,480", "input (1, 28, 28)"):  # fmt: skip
        assert words in text, words


@sync
async def test_overview_from_a_real_run(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path, "exp", device="cpu", config={"training": {"epochs": 4}})
    writer.status("running")
    writer.event("epoch", epoch=1, step=10, time_s=2.0)
    writer.scalar("val/loss", 0.5, 10, 1.0)
    writer.scalar("lr", 0.01, 10, 1.0)
    writer.flush()
    reader = RunReader(writer.run_dir)
    pane = OverviewPane()
    app = PaneApp(pane)
    async with app.run_test(size=(100, 20)) as pilot:
        pane.update_from(reader)
        await pilot.pause()
        text = screen_text(app)
    writer.close(status="finished")
    assert "RUNNING" in text and "epoch 1/4" in text and "ETA 6s" in text
    assert "lr 0.01" in text and "best val/loss 0.5" in text
    assert "no model summary yet" in text


# ---------------------------------------------------------- System, log, sample


@sync
async def test_system_pane_without_gpu() -> None:
    pane = SystemPane()
    t = 1e9 + np.arange(60.0)
    pane.show(
        {
            "system/cpu_percent": (t, np.linspace(10, 90, 60)),
            "system/ram_used": (t, np.full(60, 2.0**33)),
        }
    )
    text = await shown(pane)
    assert "CPU" in text and "90%" in text and "8.0 GiB" in text and "no GPU" in text


@sync
async def test_system_pane_with_gpu() -> None:
    pane = SystemPane()
    t = 1e9 + np.arange(10.0)
    pane.show(
        {
            "system/gpu0/util": (t, np.full(10, 87.0)),
            "system/gpu0/temp": (t, np.full(10, 65.0)),
            "system/gpu0/power": (t, np.full(10, 210.0)),
            "system/gpu0/mem_used": (t, np.full(10, 2.0**34)),
        }
    )
    text = await shown(pane)
    assert "GPU0 util" in text and "87%" in text and "65°C" in text and "210 W" in text
    assert "16.0 GiB" in text and "no GPU" not in text


@sync
async def test_output_log_appends_only_new_lines(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path, "exp")
    output = writer.output_path
    output.write_text("epoch 1 loss 0.9\nepoch 2 loss 0.5\n")
    reader = RunReader(writer.run_dir)
    log = OutputLog()
    app = PaneApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        log.update_from(reader)
        with output.open("a") as handle:
            handle.write("epoch 3 loss 0.3\n")
        log.update_from(reader, reader.poll())
        await pilot.pause()
        assert log.lines_received == 3
        assert list(log.lines) == ["epoch 1 loss 0.9", "epoch 2 loss 0.5", "epoch 3 loss 0.3"]
    writer.close()


@sync
async def test_sample_pane_text_points_and_nothing() -> None:
    assert "no samples yet" in await shown(SamplePane())
    pane = SamplePane()
    pane.show({"epoch": 4, "text": "to be or not to be"})
    text = await shown(pane)
    assert "epoch 4" in text and "to be or not to be" in text
    pane = SamplePane()
    rng = np.random.default_rng(0)
    pane.show(
        {
            "epoch": 2,
            "points": rng.normal(size=(200, 2)).tolist(),
            "real": rng.normal(size=(50, 2)).tolist(),
        }
    )
    text = await shown(pane, (60, 16))
    assert "generated" in text and "real" in text
    assert any("\u2800" < ch <= "\u28ff" for ch in text)


def test_progress_is_the_newest_of_heartbeat_epoch_event_and_logged_loss(tmp_path: Path) -> None:
    from dltui.tui.widgets.overview_pane import latest_progress, summarize

    with RunWriter.create(tmp_path, "fast", heartbeat_interval=3600) as writer:
        writer.status("running", step=330, epoch=16.5)  # the last heartbeat, seconds ago
        writer.scalars({"train/loss": 0.3}, 380, 19.0)
        writer.event("epoch", epoch=19, step=380)
        writer.scalars({"train/loss": 0.2}, 400, 20.0)  # logged after the epoch event
        writer.flush()
        reader = RunReader(writer.run_dir)
        assert latest_progress(reader) == (20.0, 400)
        summary = summarize(reader)
        assert (summary.epoch, summary.step) == (20.0, 400)


def test_wrap_line_keeps_words_and_numbers_whole() -> None:
    from dltui.tui.widgets.output_log import wrap_line

    line = "epoch 31/40  train/d_loss 1.21  train/g_loss 0.854  train/d_real 0.552  0.1s"
    rows = wrap_line(line, 30)
    assert all(len(row) <= 30 for row in rows)
    assert " ".join(row.strip() for row in rows).split() == line.split()
    assert rows[1].startswith("  ")  # continuation rows are indented
    assert wrap_line("/a/" + "x" * 70, 30)[0] == "/a/" + "x" * 27  # no space: cut at the edge
    assert wrap_line("short", 30) == ["short"]
    assert all(len(row) <= 20 * 2 for row in wrap_line("日本語のテキスト" * 6, 20))


@sync
async def test_output_log_keeps_its_wrapping_right_when_old_lines_fall_out() -> None:
    from dltui.tui.widgets.output_log import wrap_line

    log = OutputLog(max_lines=50)
    app = PaneApp(log)
    async with app.run_test(size=(40, 10)) as pilot:
        for start in range(0, 200, 7):
            log.append([f"line {j} " + "x" * (j % 60) for j in range(start, start + 7)])
        await pilot.pause()
        assert len(log.lines) == 50 and log.lines[0].startswith("line 153 ")
        expected = [row for line in log.lines for row in wrap_line(line, log._wrapped_width)]
        assert log._rows == expected
        assert "line 202" in screen_text(app)  # following the end


@sync
async def test_grad_norm_labels_use_the_width_there_is() -> None:
    # A GAN's layers are named for their stack: 21 to 30 characters, whole at 64 columns
    # (a grid cell of the run view at 200 columns) and cut, with the numbers kept, at 40.
    names = ["discriminator/0_dense", "generator/4_dense", "discriminator/2_dense_wide_name"]
    values = np.geomspace(1.0, 0.1, 50)

    def pane() -> GradNormPane:
        grads = GradNormPane()
        grads.show([LayerNorms(name, values) for name in names], total=values)
        return grads

    wide = await shown(pane(), (64, 10))
    assert all(name in wide for name in names), wide
    narrow = await shown(pane(), (40, 10))
    assert "…" in narrow and narrow.count("0.1") >= 4, narrow


@sync
async def test_a_gan_overview_shows_both_networks(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path, "gan", device="cpu")
    for part, inputs, width, params in (("generator", 8, 2, 4866), ("discriminator", 2, 1, 4417)):
        rows = [
            {"index": 0, "label": "0_dense", "type": "dense", "out_shape": [64],
             "params": params - 65},
            {"index": 1, "label": "1_relu", "type": "relu", "out_shape": [64], "params": 0},
            {"index": 2, "label": f"2_{part[:3]}_out", "type": "dense", "out_shape": [width],
             "params": 65},
        ]  # fmt: skip
        writer.event("model", rows=rows, total_params=params, trainable_params=params,
                     input_shape=[inputs], output_shape=[width], part=part)  # fmt: skip
    writer.close(status="finished")
    pane = OverviewPane()
    app = PaneApp(pane)
    async with app.run_test(size=(80, 24)) as pilot:
        pane.update_from(RunReader(writer.run_dir))
        await pilot.pause()
        text = screen_text(app)
    lines = text.splitlines()
    generator = next(i for i, line in enumerate(lines) if "generator" in line)
    discriminator = next(i for i, line in enumerate(lines) if "discriminator" in line)
    assert generator < discriminator
    assert "2_gen_out" in text and "2_dis_out" in text and "(8,)" in text
    assert "generator 4,866 · discriminator 4,417 · 9,283 parameters in all" in text, text


# ------------------------------------------------------------------ ConfusionPane


@sync
async def test_a_confusion_matrix_too_big_for_the_pane_shows_its_most_confused_classes() -> None:
    from dltui.tui.widgets import ConfusionPane

    k = 30
    matrix = [[40 if i == j else 0 for j in range(k)] for i in range(k)]
    matrix[7][21] = 13  # the one big mistake, between two classes far apart
    matrix[21][7] = 1234  # and a count as wide as it gets
    names = [f"species-{i}" for i in range(k)]
    for size in ((80, 24), (200, 60)):
        pane = ConfusionPane()
        pane.show({"matrix": matrix, "classes": names, "weights": "last"})
        text = await shown(pane, size)
        lines = text.splitlines()
        # At 80x24 only some classes fit (those in mistakes among them); at 200x60 all.
        cut = f"of {k} classes: those in the most mistakes" in text
        assert cut == (size == (80, 24)), (size, text)
        # Columns are numbered (the names do not fit), rows say number and name.
        row7 = next(line for line in lines if line.strip().startswith("7 species-7"))
        row21 = next(line for line in lines if line.strip().startswith("21 species-21"))
        assert "13" in row7.split() and "1234" in row21.split() and "1,274" in row21.split()
        assert all(len(line) <= size[0] for line in lines)
        assert "species-21 → species-7 ×1234" in text


@sync
async def test_a_run_without_a_confusion_matrix_says_why() -> None:
    from dltui.tui.widgets import ConfusionPane
    from dltui.tui.widgets.confusion_pane import NOT_YET, why_no_confusion

    def meta(**config: Any) -> dict[str, Any]:
        return {"config": config}

    assert why_no_confusion(meta(training={"loss": "cross_entropy"}), True) == NOT_YET
    assert "GAN" in why_no_confusion(meta(model={"kind": "gan"}), True)
    assert "language model" in why_no_confusion(meta(data={"source": "chars"}), False)
    assert "not a classification" in why_no_confusion(meta(training={"loss": "mse"}), True)
    no_test = meta(training={"loss": "nll"}, data={"split": {"train": 0.9, "test": 0}})
    assert "no test split" in why_no_confusion(no_test, True)
    pane = ConfusionPane()
    pane.show({"matrix": [[1, 2], [3]]})
    assert "cannot be shown: confusion event: matrix row 1" in await shown(pane)


@sync
async def test_a_short_run_s_system_lines_have_no_gaps_on_a_wide_pane() -> None:
    # 20 samples across 200 columns: each holds until the next, not a comb of bars.
    pane = SystemPane()
    t = 1e9 + np.arange(20.0) * 6
    pane.show({"system/cpu_percent": (t, np.full(20, 100.0)), "system/ram_used": (t, t - 1e9)})
    text = await shown(pane, (200, 10))
    cpu = next(line for line in text.splitlines() if "CPU" in line)
    bar = cpu.split("CPU", 1)[1].rsplit("100%", 1)[0].strip()
    assert len(bar) > 150 and " " not in bar, cpu
