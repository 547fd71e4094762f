"""Pilot tests of the run view and the compare view, on run folders written by RunWriter."""

from __future__ import annotations

from pathlib import Path

from tui_runs import (
    make_app,
    make_run,
    run_async,
    settle,
    spirals_toml,
    write_experiment,
)

from dltui.runs import RunWriter
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import OpenRun
from dltui.tui.screens.compare import CompareScreen, comparable_metrics
from dltui.tui.screens.run import RunScreen
from dltui.tui.screens.run_panes import CurvesPane, plot_groups
from dltui.tui.widgets import LinePlot
from dltui.tui.widgets.diff_pane import DiffPane
from dltui.tui.widgets.tab_line import TabLine


def test_plot_groups_cover_loss_metrics_and_lr() -> None:
    tags = ["train/loss", "val/loss", "val/accuracy", "train/accuracy", "lr", "grad_norm/total"]
    assert plot_groups(tags) == [
        ("Loss", ("train/loss", "val/loss")),
        ("accuracy", ("train/accuracy", "val/accuracy")),
        ("Learning rate", ("lr",)),
    ]
    assert plot_groups(["train/g_loss", "train/d_loss"])[0][0] == "GAN losses"
    metrics = comparable_metrics([["grad_norm/x", "val/acc"], ["val/loss"]])
    assert [m.name for m in metrics] == ["val/loss", "val/acc", "grad_norm/x"]
    # Another tool's spelling of a preferred metric is offered first too.
    metrics = comparable_metrics([["zeta", "Loss/train"], ["alpha"]])
    assert [m.name for m in metrics] == ["Loss/train", "alpha", "zeta"]


@run_async
async def test_run_view_toggles_and_follows_a_live_run(tmp_path: Path) -> None:
    writer = make_run(tmp_path / "runs", "spirals", "20260101-000000-live", keep_open=True)
    assert isinstance(writer, RunWriter)
    app = make_app(tmp_path, follow_interval=0.05)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.post_message(OpenRun(writer.run_dir))
            await settle(
                pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None
            )
            screen = app.screen
            assert isinstance(screen, RunScreen)
            assert screen.single  # 80x24: one pane at a time
            curves = screen.query_one(CurvesPane)
            await settle(pilot, lambda: len(curves.plots) == 3)
            loss = screen.query_one("#plot-loss", LinePlot)
            assert [s.label for s in loss.series] == ["train", "val"]
            before = len(loss.series[0].y)
            # toggles flow down to every plot
            await pilot.press("s")
            assert all(p.smoothing == 0 for p in curves.plots)
            await pilot.press("s", "right_square_bracket")
            assert loss.smoothing == 0.8
            await pilot.press("L")
            assert all(p.log_y for p in curves.plots)
            await pilot.press("x")
            assert loss.x_axis == "epoch"
            # a metric written now shows up without any key press
            writer.scalar("train/loss", 0.05, 1000, 6.0)
            writer.flush()
            await settle(pilot, lambda: len(loss.series[0].y) == before + 1, timeout=5)
            # panes by number, zoom
            await pilot.press("4")
            assert screen.active_pane == "gradients"
            tabs = str(screen.query_one(TabLine).render())
            # All eight fit in 80 columns, some by their short titles.
            assert "4 Grads" in tabs and "7 Samples" in tabs and "8 Confusion" in tabs
            assert screen.query_one("#pane-gradients").display
            assert not screen.query_one("#pane-curves").display
            await pilot.press("escape")
            assert not isinstance(app.screen, RunScreen)
    finally:
        writer.close()


@run_async
async def test_run_view_grid_and_zoom_on_a_large_terminal(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path, follow_interval=0.05)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        app.post_message(OpenRun(Path(str(run))))
        await settle(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None
        )
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert not screen.single
        shown = [p.id for p in screen.query(".pane") if p.display]
        assert len(shown) == 6
        await pilot.press("z")
        assert screen.single
        assert [p.id for p in screen.query(".pane") if p.display] == ["pane-curves"]
        await pilot.press("z", "tab")
        assert screen.active_pane == "overview" and not screen.single
        # a finished run cannot be stopped
        assert screen.check_action("stop", ()) is False


@run_async
async def test_clicking_a_tab_or_a_footer_key_acts_like_its_key(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path, follow_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.post_message(OpenRun(Path(str(run))))
        await settle(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.single
        tabs = screen.query_one(TabLine)
        start = next(x for x in range(200) if tabs.index_at(x) == 3)  # "4 Gradients"
        await pilot.click(TabLine, offset=(1 + start + 2, 0))  # one column of padding
        assert screen.active_pane == "gradients" and tabs.active == 3
        assert screen.query_one("#pane-gradients").display
        assert tabs.index_at(start - 1) is None  # between two labels
        footer = screen.query_one(KeyFooter)
        zoom = next(start for _, start, _, e in footer._spans if e.description == "Zoom")
        await pilot.click(KeyFooter, offset=(zoom, 0))
        assert screen.zoomed
        back = next(start for _, start, _, e in footer._spans if e.description == "Back")
        await pilot.click(KeyFooter, offset=(back + 1, 0))
        await settle(pilot, lambda: not isinstance(app.screen, RunScreen))


@run_async
async def test_compare_two_runs_overlays_and_diffs(tmp_path: Path) -> None:
    write_experiment(tmp_path / "experiments", "spirals")
    runs = tmp_path / "runs"
    make_run(runs, "spirals", "20260101-000000-aaaa", lr=0.01)
    make_run(runs, "spirals", "20260101-010000-bbbb", lr=0.1, loss_scale=1.5,
             experiment_text=spirals_toml(lr=0.1, hidden=16))  # fmt: skip
    app = make_app(tmp_path, follow_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await pilot.press("j", "space", "space", "c")
        await settle(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.tags))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.tag == "val/loss"
        plot = screen.query_one("#compare-plot", LinePlot)
        labels = [s.label for s in plot.series]
        assert sorted(labels) == ["20260101-000000-aaaa", "20260101-010000-bbbb"]
        colours_before = {s.label: s.color_key for s in plot.series}
        await pilot.press("t")
        assert screen.tag == "train/loss"
        assert {s.label: s.color_key for s in plot.series} == colours_before
        diff = screen.query_one(DiffPane)
        assert [path for path, _ in diff.rows] == [
            "model.layers[0].out_features",
            "training.optimizer.lr",
        ]
        assert diff.rows[1][1] == ["0.1", "0.01"]  # marked order
        await pilot.press("d")
        assert not screen.query_one("#compare-diff").display
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


def test_the_tab_line_keeps_the_active_label_in_view_when_narrow() -> None:
    tabs = TabLine(["Curves", "Overview", "Early stopping", "Gradients"])
    texts, gap = tabs._parts(200)
    assert texts[0] == " 1 Curves " and gap == "  "
    texts, gap = tabs._parts(50)
    assert texts == ["1 Curves", "2 Overview", "3 Early stopping", "4 Gradients"] and gap == " "
    tabs.active = 2
    texts, _ = tabs._parts(30)
    assert texts == [" 1 ", " 2 ", " 3 Early stopping ", " 4 "]
