"""Snapshots of the sweep view: a stopped sweep written by hand, so every cell is fixed.

The study is made with Optuna's own API (fixed values, epochs and start and end
times), beside a sweep.json and one stopped worker, as `dltui sweep` leaves them;
nothing is trained, nothing depends on the clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tui_runs import FROZEN_NOW, settle, spirals_toml, write_experiment

from dltui.tui.app import DashboardApp
from dltui.tui.messages import OpenSweep
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.sweep import SweepScreen

optuna = pytest.importorskip("optuna")

SPEC = {
    "method": "tpe",
    "trials": 8,
    "parallel": 2,
    "params": {
        "training.optimizer.lr": {"low": 0.0001, "high": 0.1, "log": True},
        "model.layers[0].out_features": {"low": 8, "high": 64, "step": 8},
        "model.layers[3].out_features": {"low": 8, "high": 64, "step": 8},
        "model.layers[2].p": {"low": 0.0, "high": 0.5},
    },
}
"""Four varied fields, as experiments/sweep-spirals.toml: at 80 columns the epoch and time
give way to them."""

TRIALS = [
    # (state, lr, widths, p, the objective at each epoch, seconds it took)
    ("COMPLETE", 0.00443, (48, 40), 0.2724, [0.52, 0.61, 0.69, 0.71, 0.693], 8.5),
    ("COMPLETE", 0.001866, (24, 32), 0.4459, [0.50, 0.58, 0.64, 0.6867], 7.9),
    ("COMPLETE", 0.0778, (32, 56), 0.2644, [0.71, 0.86, 0.92, 0.9533, 0.94], 11.3),
    ("PRUNED", 0.000115, (56, 56), 0.435, [0.41, 0.45], 3.2),
    ("COMPLETE", 0.00506, (64, 8), 0.04356, [0.66, 0.79, 0.8867, 0.88], 9.7),
    ("FAIL", 0.0912, (8, 16), 0.1, [], 0.4),
    ("COMPLETE", 0.0621, (40, 32), 0.3903, [0.70, 0.84, 0.8733], 65.0),
]


def _make_sweep(runs: Path) -> Path:
    """A stopped TPE sweep ``lr-search`` of ``spirals``, 7 of 8 trials done."""
    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna.trial import FrozenTrial, TrialState

    from dltui.sweep.engine import open_storage
    from dltui.sweep.records import journal_url, write_sweep_file

    folder = runs / "spirals" / "sweeps" / "lr-search"
    write_sweep_file(folder, {
        "name": "lr-search", "experiment": "spirals", "file": "experiments/spirals.toml",
        "created": FROZEN_NOW - 900, "storage": journal_url(folder), "spec": SPEC,
        "metric": "val/accuracy", "maximize": True,
    })  # fmt: skip
    (folder / "workers").mkdir()
    worker = {"host": "gpu-01", "pid": 4242, "status": "stopped", "heartbeat": FROZEN_NOW - 60,
              "running": [], "budget": 8}  # fmt: skip
    (folder / "workers" / "gpu-01-4242.json").write_text(json.dumps(worker))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="lr-search", storage=open_storage(journal_url(folder)), direction="maximize"
    )
    distributions = {
        "training.optimizer.lr": FloatDistribution(0.0001, 0.1, log=True),
        "model.layers[0].out_features": IntDistribution(8, 64, step=8),
        "model.layers[3].out_features": IntDistribution(8, 64, step=8),
        "model.layers[2].p": FloatDistribution(0.0, 0.5),
    }
    start = datetime.fromtimestamp(FROZEN_NOW - 900)
    for number, (state, lr, (width, second), p, values, seconds) in enumerate(TRIALS):
        began = start + timedelta(seconds=20 * number)
        study.add_trial(
            FrozenTrial(
                number=number,
                trial_id=number,
                state=TrialState[state],
                value=max(values) if state == "COMPLETE" else None,  # objective: best
                values=None,
                datetime_start=began,
                datetime_complete=began + timedelta(seconds=seconds),
                params={
                    "training.optimizer.lr": lr,
                    "model.layers[0].out_features": width,
                    "model.layers[3].out_features": second,
                    "model.layers[2].p": p,
                },
                distributions=distributions,
                user_attrs={"run_dir": f"runs/spirals/20260101-00{number:02d}00-aaaa"},
                system_attrs={},
                intermediate_values={epoch: v for epoch, v in enumerate(values, start=1)},
            )
        )
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The spirals experiment and its stopped sweep under ``tmp_path``."""
    write_experiment(tmp_path / "experiments", "spirals", spirals_toml())
    _make_sweep(tmp_path / "runs")
    return tmp_path


def _sweep_view(size: tuple[int, int]):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        app.animation_level = "none"  # the tab underline slides otherwise
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.catalog)
        app.post_message(OpenSweep(Path("runs/spirals/sweeps/lr-search").resolve()))
        await settle(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.reads > 0)
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_sweep_view_snapshot(
    snap_compare, workspace: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.chdir(workspace)
    app = DashboardApp("experiments", "runs", "themes", watch=False, clock=lambda: FROZEN_NOW,
                       layer_tables=False)  # fmt: skip
    assert snap_compare(app, terminal_size=size, run_before=_sweep_view(size))
