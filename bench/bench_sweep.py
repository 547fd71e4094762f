"""Sweep overhead: `dltui sweep` (a process and a run directory per trial) against Optuna
driving the same training in-process, with nothing recorded.

    python bench/bench_sweep.py [--trials 4] [--epochs 60]

Both run the same trials one after another: the same experiment, the same values
(one choice, so every trial trains exactly the same thing). In-process, Optuna's
``optimize`` calls an objective that builds dltui's trainer and fits it, writing
nothing. dltui's sweep runs each trial as `dltui run` (forked from its warm
server), records it, follows its epoch values and tells the study. The budget
(DESIGN.md) is the overhead per trial: <= 5 % of a 20-second trial, i.e. <= 1 s.
The fork server's start (paid once per sweep) is included in dltui's time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

EXPERIMENT = """
name = "bench-sweep"
seed = 0

[data]
source = "spirals"
samples = 2000
split = {{ train = 0.8, val = 0.2, test = 0.0 }}
batch_size = 32

[[model.layers]]
type = "dense"
out_features = 64

[[model.layers]]
type = "tanh"

[[model.layers]]
type = "dense"
out_features = 2

[training]
epochs = {epochs}
loss = "cross_entropy"
metrics = ["accuracy"]
threads = 1

[training.optimizer]
name = "adam"
lr = 0.01

[sweep]
method = "random"
trials = {trials}

[sweep.params]
"training.optimizer.lr" = {{ choices = [0.01] }}
"""

TRIAL_BUDGET_S = 20.0
OVERHEAD_BUDGET = 0.05


def in_process(file: Path, trials: int) -> list[float]:
    """Seconds of each trial with Optuna calling dltui's trainer in this process."""
    import optuna
    import torch

    from dltui.spec import load_experiment
    from dltui.train.loop import Trainer
    from dltui.train.signals import StopSignal

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    experiment = load_experiment(file)
    times: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        start = time.perf_counter()
        trial.suggest_categorical("training.optimizer.lr", [0.01])
        trainer = Trainer(experiment, writer=None, progress=None, device=torch.device("cpu"),
                          epochs=experiment.training.epochs, runs_root=file.parent,
                          stop=StopSignal())  # fmt: skip
        trainer.setup()
        trainer.fit()
        times.append(time.perf_counter() - start)
        return 0.0

    optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).optimize(
        objective, n_trials=trials
    )
    return times


def dltui_sweep(file: Path, trials: int, runs: Path) -> tuple[float, list[float]]:
    """`dltui sweep` over ``trials`` trials: its wall seconds, and when each trial's run
    ended (seconds after the sweep started), in order."""
    import json

    from dltui.cli import main

    start_wall = time.time()
    start = time.perf_counter()
    code = main(["sweep", str(file), "--runs", str(runs), "--name", "bench"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"dltui sweep exited {code}")
    ends = []
    for status in runs.glob("*/2*/status.json"):
        ends.append(json.loads(status.read_text())["heartbeat"] - start_wall)
    return seconds, sorted(ends)


def main() -> None:
    """Run both and print the overhead per trial with the load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "bench-sweep.toml"
        file.write_text(EXPERIMENT.format(epochs=args.epochs, trials=args.trials))
        load_before = os.getloadavg()[0]
        inner = in_process(file, args.trials)
        sys.stdout.flush()
        total, ends = dltui_sweep(file, args.trials, Path(tmp) / "runs")
        load_after = os.getloadavg()[0]
    # Both pay one-off imports once: the first in-process trial imports torchmetrics
    # and torch._dynamo; dltui's fork server imports them before its first trial.
    # After that, each trial's overhead is the gap between consecutive trial ends
    # minus the in-process time of a trial.
    steady_in = sum(inner[1:]) / (args.trials - 1)
    steady_dltui = (ends[-1] - ends[0]) / (args.trials - 1)
    per_trial = steady_dltui - steady_in
    once = ends[0] - inner[0]
    sweep = 20
    projected = (once + sweep * per_trial) / sweep
    print()
    print(f"{args.trials} trials, each {args.epochs} epochs of a 2,000-point MLP on 1 thread")
    print(
        f"Optuna in-process, nothing recorded: {sum(inner):6.2f} s in all; a trial after the "
        f"first {steady_in:.2f} s ({', '.join(f'{t:.2f}' for t in inner)})"
    )
    print(
        f"dltui sweep, a run per trial:        {total:6.2f} s in all; a trial after the "
        f"first {steady_dltui:.2f} s"
    )
    print(
        f"overhead per trial:                  {per_trial:6.2f} s (process, recording, "
        "following, telling)"
    )
    print(f"overhead once per sweep:             {once:6.2f} s (the fork server's start)")
    share = projected / TRIAL_BUDGET_S
    print(
        f"a sweep of {sweep} trials of {TRIAL_BUDGET_S:.0f} s: {projected:.2f} s overhead a trial "
        f"= {share:.1%} (budget {OVERHEAD_BUDGET:.0%}): "
        f"{'met' if share <= OVERHEAD_BUDGET else 'NOT MET'}"
    )
    load = max(load_before, load_after)
    print(
        f"load {load_before:.2f} before, {load_after:.2f} after"
        + ("  (over 1.5: noise; run again when the machine is quiet)" if load > 1.5 else "")
    )


if __name__ == "__main__":
    main()
