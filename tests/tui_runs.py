"""Tiny run folders and experiment files for the dashboard's tests (no training).

Runs are written with the real `dltui.runs.RunWriter`, then ``meta.json``'s
``created`` is pinned so ages are stable against a frozen clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.pilot import WaitForScreenTimeout
from textual.worker import WorkerCancelled, WorkerFailed

from dltui.runs import RunWriter

if TYPE_CHECKING:
    from dltui.tui.app import DashboardApp

FROZEN_NOW = 1_790_000_000.0
"""The dashboard's frozen "now" in tests (a fixed date in 2026)."""


def make_app(root: Path, **options: Any) -> DashboardApp:
    """A dashboard on ``root``'s experiments, runs and themes folders, with a frozen
    clock, no folder watcher and no layer tables unless ``options`` say otherwise."""
    from dltui.tui.app import DashboardApp

    settings: dict[str, Any] = {
        "watch": False,
        "clock": lambda: FROZEN_NOW,
        "layer_tables": False,
        **options,
    }
    return DashboardApp(root / "experiments", root / "runs", root / "themes", **settings)


SPIRALS_TOML = """\
description = "MLP on two spirals"
seed = 0
tags = ["playground"]

[data]
source = "spirals"
samples = {samples}
batch_size = 32

[[model.layers]]
type = "dense"
out_features = {hidden}

[[model.layers]]
type = "tanh"

[[model.layers]]
type = "dense"
out_features = 2

[training]
epochs = {epochs}
loss = "cross_entropy"
metrics = ["accuracy"]
device = "cpu"
log_every = 2

[training.optimizer]
name = "adam"
lr = {lr}

[early_stopping]
monitor = "val_loss"
patience = 3
"""


def spirals_toml(
    *, epochs: int = 2, hidden: int = 8, lr: float = 0.01, samples: int = 200, stopping: bool = True
) -> str:
    """A small valid experiment file's text (without early stopping if not ``stopping``)."""
    text = SPIRALS_TOML.format(epochs=epochs, hidden=hidden, lr=lr, samples=samples)
    return text if stopping else text[: text.index("[early_stopping]")]


def write_experiment(folder: Path, name: str, text: str | None = None) -> Path:
    """Write ``folder/name.toml`` (a small spirals experiment by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text if text is not None else spirals_toml(), encoding="utf-8")
    return path


def make_run(
    runs: Path,
    experiment: str,
    run_id: str,
    *,
    epochs: int = 5,
    steps_per_epoch: int = 10,
    created: float = FROZEN_NOW - 3600,
    state: str = "finished",
    lr: float = 0.01,
    loss_scale: float = 1.0,
    experiment_text: str | None = None,
    keep_open: bool = False,
    system: bool = True,
) -> RunWriter | Path:
    """Record a plausible finished (or ``keep_open``: live) run; returns its folder or writer.

    ``system=False`` leaves out the CPU/RAM tags, whose x axis is the real time
    the fixture was written at (snapshots must not depend on it).
    """
    writer = RunWriter.create(
        runs,
        experiment,
        run_id=run_id,
        experiment_text=experiment_text if experiment_text is not None else spirals_toml(lr=lr),
        device="cpu",
    )
    writer.status("running")
    writer.event(
        "model",
        rows=[
            {"index": 0, "label": "0_dense", "type": "dense", "out_shape": [8], "params": 24},
            {"index": 1, "label": "1_tanh", "type": "tanh", "out_shape": [8], "params": 0},
            {"index": 2, "label": "2_dense", "type": "dense", "out_shape": [2], "params": 18},
        ],
        total_params=42,
        trainable_params=42,
        input_shape=[2],
    )
    (writer.run_dir / "output.log").write_text("epoch 1/5  loss 0.91\nepoch 2/5  loss 0.62\n")
    step = 0
    best = math.inf
    best_epoch = 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps_per_epoch):
            step += 1
            loss = loss_scale * (1.0 / (1 + 0.1 * step) + 0.05 * math.sin(step))
            fraction = step % steps_per_epoch / steps_per_epoch
            writer.scalar("train/loss", loss, step, epoch - 1 + fraction)
            writer.scalar("grad_norm/0_dense", 0.5 / (1 + 0.05 * step), step)
            writer.scalar("grad_norm/2_dense", 0.2 / (1 + 0.05 * step), step)
            writer.scalar("grad_norm/total", 0.6 / (1 + 0.05 * step), step)
        val = loss_scale * (1.2 / (1 + 0.5 * epoch))
        writer.scalar("train/loss_epoch", loss, step, epoch)
        writer.scalar("val/loss", val, step, epoch)
        writer.scalar("val/accuracy", min(0.99, 0.5 + 0.08 * epoch), step, epoch)
        writer.scalar("lr", lr, step, epoch)
        writer.scalar("epoch_time", 0.5, step, epoch)
        if system:  # plotted against wall-clock time, so not for snapshots
            writer.scalar("system/cpu_percent", 50.0 + epoch, step, epoch)
            writer.scalar("system/ram_used", 1.5e9, step, epoch)
        if val < best:
            best, best_epoch = val, epoch
        writer.event("epoch", epoch=epoch, step=step, train_loss=loss, val_loss=val)
        writer.event(
            "early_stopping",
            monitor="val/loss",
            mode="min",
            value=val,
            best=best,
            best_epoch=best_epoch,
            wait=epoch - best_epoch,
            patience=3,
            stopped=False,
        )
        writer.heartbeat(step=step, epoch=epoch)
    if keep_open:
        writer.flush()
        _pin_created(writer.run_dir, created)
        return writer
    writer.close(state, reason=None if state == "finished" else f"test: {state}")
    _pin_created(writer.run_dir, created)
    return writer.run_dir


def _pin_created(run_dir: Path, created: float) -> None:
    meta_path = run_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["created"] = created
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (no asyncio pytest plugin here)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def settle(pilot, until: Callable[[], bool] | None = None, timeout: float = 10.0) -> None:
    """Let workers finish and messages drain (until ``until()`` holds).

    With ``until``, the condition is what is waited for: a live run keeps posting
    updates, so "every message processed" may not come about on a loaded machine
    within the pilot's own timeout, and that is not a failure while the condition
    can still be reached before ``timeout``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for worker in list(pilot.app.workers):
            # Trainer supervisors run as long as their process: never wait on those.
            if worker.group != "launch" and not worker.is_finished:
                with contextlib.suppress(WorkerCancelled, WorkerFailed, TimeoutError):
                    await asyncio.wait_for(worker.wait(), max(0.01, deadline - loop.time()))
        if until is None:
            await pilot.pause()
            return
        with contextlib.suppress(WaitForScreenTimeout, TimeoutError):
            await asyncio.wait_for(pilot.pause(), max(0.1, min(5.0, deadline - loop.time())))
        if until():
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
