"""Snapshots of every pane with fixture data, composed in one test app.

Regenerate after an intended change with ``pytest tests/test_snapshots_widgets.py
--snapshot-update`` and review the SVGs in the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.app import App, ComposeResult
from textual.containers import Grid

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
)


def _loss_series() -> list[PlotSeries]:
    rng = np.random.default_rng(7)
    steps = np.arange(2000)
    train = np.exp(-steps / 600) + 0.05 * rng.standard_normal(2000) + 0.1
    train[1200] = 2.5  # a spike that must stay visible
    val_steps = steps[::200]
    val = np.exp(-val_steps / 600) + 0.15
    return [
        PlotSeries("train/loss", train, steps, steps / 200, 1e9 + steps * 0.1, key="train/loss"),
        PlotSeries(
            "val/loss", val, val_steps, val_steps / 200, 1e9 + val_steps * 0.1, key="val/loss"
        ),
    ]


class PanesApp(App[None]):
    """Every pane, fed with fixed data."""

    CSS = """
    Grid { grid-size: 2 4; grid-rows: 12 8 9 1fr; }
    Grid > * { border: round $primary; }
    """

    def compose(self) -> ComposeResult:
        with Grid():
            yield LinePlot("loss", id="loss", smoothing=0.8)
            yield LinePlot("val/accuracy", tags=["val/accuracy"], id="empty")
            yield OverviewPane(id="overview")
            yield EarlyStoppingPane(id="stopping")
            yield GradNormPane(id="grads")
            yield SystemPane(id="system")
            yield OutputLog(id="log")
            yield SamplePane(id="sample")

    def on_mount(self) -> None:
        self.query_one("#loss", LinePlot).set_series(_loss_series())
        self.query_one("#overview", OverviewPane).show_summary(
            RunSummary(state="running", experiment="mnist-mlp", device="cpu", epoch=10,
                       epochs=20, step=2000, eta_seconds=95, throughput=5400, lr=1e-3)
        )  # fmt: skip
        self.query_one("#overview", OverviewPane).show_model(
            {
                "rows": [{"index": 0, "label": "fc1", "type": "linear", "out_shape": [10],
                          "params": 7850}],
                "total_params": 7850,
                "trainable_params": 7850,
            }
        )  # fmt: skip
        self.query_one("#stopping", EarlyStoppingPane).show(
            {"monitor": "val/loss", "mode": "min", "value": 0.31, "best": 0.29, "best_epoch": 8,
             "epoch": 10, "wait": 2, "patience": 5, "min_delta": 0.0}
        )  # fmt: skip
        self.query_one("#grads", GradNormPane).show(
            [
                LayerNorms("fc1", np.geomspace(1.0, 0.1, 100)),
                LayerNorms("fc2", np.geomspace(1e-3, 1e-9, 100)),
            ],
            total=np.geomspace(1.0, 0.1, 100),
        )
        t = 1e9 + np.arange(60.0)
        self.query_one("#system", SystemPane).show(
            {
                "system/cpu_percent": (t, 50 + 40 * np.sin(t / 5)),
                "system/ram_used": (t, np.full(60, 2.0**32)),
            }
        )
        self.query_one("#log", OutputLog).append(["epoch 9 loss 0.31", "epoch 10 loss 0.30"])
        rng = np.random.default_rng(3)
        self.query_one("#sample", SamplePane).show(
            {"epoch": 10, "points": rng.normal(size=(100, 2)).tolist()}
        )


def test_panes_snapshot(snap_compare: Any) -> None:
    assert snap_compare(PanesApp(), terminal_size=(140, 44))
