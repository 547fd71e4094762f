"""Trainer overhead: dltui's loop (the `dltui run` code path) vs a minimal PyTorch loop.

Both train the same MLP on the same synthetic data (784 -> ... -> 10, batch
256, Adam); the plain loop slices tensors shuffled once per epoch, the fastest
honest loop. dltui runs with recording, gradient norms and the default
``log_every``. Runs are interleaved and the median epoch throughput (first
epoch of each run dropped as warm-up) is compared; target ratio >= 0.97.
Also reports the cost of gradient-norm recording alone (on vs off).

    python bench/bench_trainer.py [--device cpu|cuda] [--repeats 3] [--epochs 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dltui.runs import RunReader
from dltui.spec import load_experiment
from dltui.train.cli import add_run_arguments
from dltui.train.runner import run_from_args

EXPERIMENT = """
name = "{name}"
seed = 0
[data]
source = "numpy"
path = "{data}"
batch_size = 256
split = {{ train = 1.0, val = 0.0 }}
{layers}
[training]
epochs = {epochs}
device = "{device}"
grad_norms = {grad_norms}
optimizer = {{ name = "adam", lr = 0.001 }}
"""


def layers_toml(hidden: list[int]) -> str:
    out = []
    for width in hidden:
        out.append(f'[[model.layers]]\ntype = "dense"\nout_features = {width}\n')
        out.append('[[model.layers]]\ntype = "relu"\n')
    out.append('[[model.layers]]\ntype = "dense"\nout_features = 10\n')
    return "\n".join(out)


def dltui_epoch_rates(exp: Path, root: Path, name: str) -> list[float]:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args([str(exp), "--runs", str(root), "--quiet", "--name", name])
    code = run_from_args(args)
    if code != 0:
        raise SystemExit(f"dltui run exited {code}")
    experiment = load_experiment(exp)
    reader = RunReader(root / experiment.display_name / name)
    reader.poll()
    times = reader.series("epoch_time").value
    n = int(np.load(str(experiment.data.path))["x"].shape[0])  # type: ignore[union-attr]
    return [n / t for t in times[1:]]


def plain_epoch_rates(exp: Path, epochs: int, device: torch.device) -> list[float]:
    from dltui.data import load_data
    from dltui.layers.stack import build_stack

    experiment = load_experiment(exp)
    torch.manual_seed(0)
    splits = load_data(experiment.data, 0)
    model = build_stack(experiment.sequential.layers, splits.info.input_shape).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = splits.train.x.to(device), splits.train.y.to(device)
    n, bs = len(x), 256
    gen = torch.Generator(device=device).manual_seed(0)
    rates = []
    for _ in range(epochs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        perm = torch.randperm(n, generator=gen, device=device)
        xs, ys = x[perm], y[perm]
        for i in range(0, n, bs):
            loss = torch.nn.functional.cross_entropy(model(xs[i : i + bs]), ys[i : i + bs])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        loss.item()  # the epoch is done when its last step is
        rates.append(n / (time.perf_counter() - start))
    return rates[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=10000)
    opts = parser.parse_args()
    device = torch.device(opts.device)
    configs = {"small 784-32-10": [32], "large 784-1024-1024-10": [1024, 1024]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        data = folder / "synthetic.npz"
        np.savez(
            data,
            x=rng.standard_normal((opts.samples, 784), dtype=np.float32),
            y=rng.integers(0, 10, opts.samples),
        )
        print(
            f"device {device}, {opts.samples} samples, "
            f"{opts.epochs} epochs x {opts.repeats} repeats"
        )
        for label, hidden in configs.items():
            files = {}
            for norms in (True, False):
                name = f"{label.split()[0]}-{'norms' if norms else 'nonorms'}"
                path = folder / f"{name}.toml"
                path.write_text(
                    EXPERIMENT.format(
                        name=name,
                        data=data,
                        layers=layers_toml(hidden),
                        epochs=opts.epochs,
                        device=opts.device,
                        grad_norms=str(norms).lower(),
                    )
                )
                files[norms] = path
            ours, ours_off, plain = [], [], []
            for r in range(opts.repeats):
                plain += plain_epoch_rates(files[True], opts.epochs, device)
                ours += dltui_epoch_rates(files[True], folder / "runs", f"on{r}")
                ours_off += dltui_epoch_rates(files[False], folder / "runs", f"off{r}")
            p, o, f = (statistics.median(v) for v in (plain, ours, ours_off))
            print(
                f"{label:24s} plain {p:>10,.0f} samples/s  dltui {o:>10,.0f} samples/s  "
                f"ratio {o / p:.3f} (target >= 0.97)  |  grad norms on/off {o / f:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
