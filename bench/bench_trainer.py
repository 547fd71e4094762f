"""Trainer overhead: dltui's loop (the `dltui run` code path) vs a minimal PyTorch loop.

Both train the same MLP on the same synthetic data (784 -> ... -> 10, batch
256, Adam). The plain loop is the fastest honest hand-written one: it draws a
permutation per epoch and gathers each batch with ``index_select`` (faster on
CPU than ``x[perm]`` once per epoch and slicing, which gathers through advanced
indexing), and writes no checkpoints. dltui runs as configured by default:
recording, gradient norms every ``log_every`` steps, checkpoints (its first
last.pt lands in the measured epochs; ``--no-checkpoint`` turns them off).

What is compared is the steady-state period of an epoch: from one epoch's end
to the next's, so everything done per epoch counts (dltui's ``epoch_time`` is
that period: training, validation, recording, checkpoint writes). The first
epoch of every run is dropped as warm-up; a run's rate is its samples over the
sum of the other periods (and, printed as "best epochs", the rate of its
fastest epoch: the least disturbed by other processes). Each repeat runs
plain, dltui, dltui without gradient norms, plain again; dltui's ratio is
against the mean of the two plain runs around it, so a load change between
repeats cancels, and the median over repeats is reported (targets: >= 0.99 small, >= 1.00 large).
The second plain run against the first is printed as the noise floor: on a
busy or small machine, a ratio within that spread says nothing either way. Also
reported: gradient-norm recording on/off, one `grad_norms` call timed alone,
and the loop alone: dltui's and the plain epoch loop taking turns, one epoch
each, in this process (the least noisy view of the loop's own cost).

Then the switches of ``[training]`` that go past the plain loop, each run
like dltui's row (plain, the switch, plain again; its ratio against the mean
of the two plain runs): ``optimizer.implementation = "foreach"`` and
``"fused"``, ``compile = true`` (its warm-up printed: the run's wall time
beyond its epochs at the steady rate, against the same for the default run,
which holds the start-up both pay; the first compile is cold, with a fresh
inductor cache), and on a small CNN ``channels_last = true`` against dltui's
default. ``--switches none`` leaves them out.

On a shared machine, note the load printed with the numbers; torch's operator
threads suffer badly from other processes (try ``--threads 1``).

    python bench/bench_trainer.py [--device cpu|cuda] [--repeats 7] [--epochs 6] [--threads N]
        [--models small,large,cnn] [--switches foreach,fused,compile,channels_last]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dltui.runs import RunReader
from dltui.spec import load_experiment
from dltui.train.cli import add_run_arguments
from dltui.train.grad_norms import grad_norms, layer_groups, layer_norms
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
checkpoint = {checkpoint}
{training}
optimizer = {{ name = "adam", lr = 0.001{optimizer} }}
"""

SWITCHES = {
    "foreach": ("", ', implementation = "foreach"'),
    "fused": ("", ', implementation = "fused"'),
    "compile": ("compile = true", ""),
    "channels_last": ("channels_last = true", ""),
}
"""Each switch's lines of [training] and its options of the optimizer's table."""


CNN_LAYERS = """
[[model.layers]]
type = "conv2d"
out_channels = 16
kernel_size = 3
padding = "same"
[[model.layers]]
type = "relu"
[[model.layers]]
type = "conv2d"
out_channels = 32
kernel_size = 3
padding = "same"
[[model.layers]]
type = "relu"
[[model.layers]]
type = "maxpool2d"
kernel_size = 2
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
out_features = 10
"""
CNN_IMAGE = (3, 16, 16)
TARGETS = {"small": "target >= 0.99", "large": "target >= 1.00"}
"""dltui's default against the plain loop, with full recording (issue 15)."""


def layers_toml(hidden: list[int]) -> str:
    out = []
    for width in hidden:
        out.append(f'[[model.layers]]\ntype = "dense"\nout_features = {width}\n')
        out.append('[[model.layers]]\ntype = "relu"\n')
    out.append('[[model.layers]]\ntype = "dense"\nout_features = 10\n')
    return "\n".join(out)


def rates(n: int, periods: list[float]) -> tuple[float, float]:
    """(samples/s over all epochs but the first, samples/s of the fastest such epoch).

    The first is the honest rate; the second is the least disturbed by other
    processes (they only ever add time), so the two agreeing means a quiet run.
    """
    steady = periods[1:]
    return n * len(steady) / sum(steady), n / min(steady)


def dltui_rate(exp: Path, root: Path, name: str) -> tuple[float, float]:
    """Samples/s over the epochs after the first, from the run's ``epoch_time`` periods."""
    return dltui_run(exp, root, name)[0]


def dltui_run(exp: Path, root: Path, name: str) -> tuple[tuple[float, float], float]:
    """`dltui_rate`'s rates, and the seconds the run took beyond its epochs at the steady
    rate: start-up, the first epoch's warm-up (a compile's), the final test, the close."""
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args([str(exp), "--runs", str(root), "--quiet", "--name", name])
    started = time.perf_counter()
    code = run_from_args(args)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"dltui run exited {code}")
    experiment = load_experiment(exp)
    reader = RunReader(root / experiment.display_name / name)
    reader.poll()
    times = list(reader.series("epoch_time").value)
    n = int(np.load(str(experiment.data.path))["x"].shape[0])  # type: ignore[union-attr]
    steady = statistics.median(times[1:])
    return rates(n, times), wall - steady * len(times)


def switch_rows(
    files: dict[str, Path],
    root: Path,
    device: torch.device,
    epochs: int,
    repeats: int,
    default: tuple[float, float],
) -> list[str]:
    """One line per switch in ``files`` (besides ``default``): its ratio to the plain loop
    around it, that ratio over dltui's default's (``default``: its ratio and its start-up
    seconds), and its start-up and warm-up."""
    plain_path = files["default"]
    default_ratio, default_extra = default
    rows = []
    for switch, path in files.items():
        if switch == "default":
            continue
        ratios, ours, extras = [], [], []
        for r in range(repeats):
            before = plain_rate(plain_path, epochs, device)
            rate, extra = dltui_run(path, root, f"{switch}-{r}")
            after = plain_rate(plain_path, epochs, device)
            ratios.append(rate[0] / ((before[0] + after[0]) / 2))
            ours.append(rate[0])
            extras.append(extra)
        ratio = statistics.median(ratios)
        rows.append(
            f"{'':24s} {switch:>13s}: {statistics.median(ours):>9,.0f} samples/s  ratio "
            f"{ratio:.3f} (per repeat {', '.join(f'{x:.2f}' for x in ratios)}); over dltui's "
            f"default {ratio / default_ratio:.3f}; start-up + warm-up "
            f"{', '.join(f'{x:.1f}' for x in extras)} s (default {default_extra:.1f} s)  "
            f"[load {load()}]"
        )
    return rows


def plain_epoch(exp: Path, device: torch.device) -> tuple[Callable[[], None], int]:
    """One epoch of the hand-written loop on ``exp``'s model and data, and its sample count."""
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

    def epoch() -> None:
        perm = torch.randperm(n, generator=gen, device=device)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        loss.item()  # the epoch is done when its last step is

    return epoch, n


def plain_rate(exp: Path, epochs: int, device: torch.device) -> tuple[float, float]:
    """Samples/s over the epochs after the first, of a hand-written loop."""
    epoch, n = plain_epoch(exp, device)
    ends = []
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
        ends.append(time.perf_counter())
    # Like dltui's epoch_time: from one epoch's end to the next's.
    return rates(n, [float(t) for t in np.diff([start, *ends])])


def interleaved_ratio(exp: Path, root: Path, device: torch.device, repeats: int) -> float:
    """dltui's epoch loop (the run's `train_epoch`) over the plain loop's, epoch by epoch.

    Both loops live in this one process and take turns, one epoch each, so a
    change of load hits both alike: the least noisy view of the loop's own
    cost (it leaves out what `dltui run` adds around it: process, checkpoints).
    Returns the median over ``repeats`` of (dltui samples/s) / (plain samples/s).
    """
    from dltui.runs import RunWriter
    from dltui.train.loop import Trainer
    from dltui.train.progress import Progress
    from dltui.train.signals import StopSignal

    experiment = load_experiment(exp)
    with RunWriter.create(root, experiment.display_name) as writer:
        trainer = Trainer(experiment, writer=writer, progress=Progress(epochs=1, quiet=True),
                          device=device, epochs=10**6, runs_root=root, stop=StopSignal(),
                          experiment_text=exp.read_text(encoding="utf-8"))  # fmt: skip
        trainer.setup()
        plain, _ = plain_epoch(exp, device)

        def ours() -> None:
            trainer.env.part.train_epoch(trainer)
            trainer.epoch += 1
            trainer.step_in_epoch = 0
            if device.type == "cuda":
                torch.cuda.synchronize()

        def seconds(run: Callable[[], None]) -> float:
            start = time.perf_counter()
            run()
            return time.perf_counter() - start

        plain()  # warm-up
        ours()
        ratios = []
        for _ in range(repeats):
            ratios.append(seconds(plain) / seconds(ours))
    return statistics.median(ratios)


def grad_norm_cost(hidden: list[int], device: torch.device) -> float:
    """Microseconds of one `grad_norms` call (all layers and the total) on this model."""
    from dltui.layers.stack import build_stack
    from dltui.spec.model import SequentialModel

    spec = SequentialModel.model_validate(
        {
            "layers": [
                *(
                    layer
                    for width in hidden
                    for layer in ({"type": "dense", "out_features": width}, {"type": "relu"})
                ),
                {"type": "dense", "out_features": 10},
            ]
        }
    )
    model = build_stack(spec.layers, (784,)).to(device)
    model(torch.randn(256, 784, device=device)).sum().backward()
    groups = layer_groups(model)

    def call() -> None:
        # What a log step adds for the norms: the device work, and their host-side sums
        # after the transfer it makes anyway for the losses.
        norms = grad_norms(groups)
        layer_norms(groups, norms.present, norms.norms.tolist())

    number = 200
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6


def load() -> str:
    """The 1-minute load average, for the record next to timings."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--threads", type=int, help="torch operator threads (default: torch's)")
    parser.add_argument("--no-checkpoint", action="store_true", help="dltui writes no checkpoints")
    parser.add_argument("--models", default="small,large,cnn", help="of small, large, cnn")
    parser.add_argument("--switch-repeats", type=int, default=3, help="repeats of each switch")
    parser.add_argument(
        "--switches",
        default="foreach,fused,compile,channels_last",
        help="of foreach, fused, compile, channels_last (cnn only), or none",
    )
    opts = parser.parse_args()
    switches = [] if opts.switches == "none" else opts.switches.split(",")
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        parser.error(f"unknown switches: {', '.join(sorted(unknown))}")
    if opts.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")
    if opts.threads is not None:
        torch.set_num_threads(opts.threads)
    device = torch.device(opts.device)
    configs: dict[str, list[int] | None] = {
        "small 784-32-10": [32],
        "large 784-1024-1024-10": [1024, 1024],
        "cnn 3x16x16-c16-c32": None,
    }
    wanted = opts.models.split(",")
    configs = {k: v for k, v in configs.items() if k.split()[0] in wanted}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # A cold compile, not one from an earlier run's cache.
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder / "inductor")
        rng = np.random.default_rng(0)
        data = folder / "synthetic.npz"
        np.savez(
            data,
            x=rng.standard_normal((opts.samples, 784), dtype=np.float32),
            y=rng.integers(0, 10, opts.samples),
        )
        images = folder / "images.npz"
        image_samples = opts.samples // 2
        np.savez(
            images,
            x=rng.standard_normal((image_samples, *CNN_IMAGE), dtype=np.float32),
            y=rng.integers(0, 10, image_samples),
        )
        print(
            f"device {device}, {torch.get_num_threads()} threads, {opts.samples} samples, "
            f"{opts.epochs} epochs x {opts.repeats} repeats, dltui checkpoints "
            f"{'off' if opts.no_checkpoint else 'on'}, load {load()} on {os.cpu_count()} cores"
        )
        for label, hidden in configs.items():
            model = label.split()[0]

            def write(
                name: str, norms: bool, switch: str | None, hidden: list[int] | None = hidden
            ) -> Path:
                training, optimizer = SWITCHES[switch] if switch else ("", "")
                path = folder / f"{name}.toml"
                path.write_text(
                    EXPERIMENT.format(
                        name=name,
                        data=data if hidden is not None else images,
                        layers=layers_toml(hidden) if hidden is not None else CNN_LAYERS,
                        epochs=opts.epochs,
                        device=opts.device,
                        grad_norms=str(norms).lower(),
                        checkpoint=str(not opts.no_checkpoint).lower(),
                        training=training,
                        optimizer=optimizer,
                    )
                )
                return path

            files = {
                norms: write(f"{model}-{'norms' if norms else 'nonorms'}", norms, None)
                for norms in (True, False)
            }
            wanted_switches = [
                s for s in switches if (s == "channels_last") == (hidden is None) or s == "compile"
            ]
            switch_files = {"default": files[True]}
            switch_files.update({s: write(f"{model}-{s}", True, s) for s in wanted_switches})
            plain_rate(files[True], 2, device)  # warm-up, untimed
            plain, plain_again, ours, ours_off = [], [], [], []
            extras: list[float] = []
            for r in range(opts.repeats):
                tag = f"{label.split()[0]}-{r}"
                plain.append(plain_rate(files[True], opts.epochs, device))
                rate, extra = dltui_run(files[True], folder / "runs", f"on-{tag}")
                ours.append(rate)
                extras.append(extra)
                ours_off.append(dltui_rate(files[False], folder / "runs", f"off-{tag}"))
                plain_again.append(plain_rate(files[True], opts.epochs, device))
            # dltui against the plain loops just before and after it; and, as the noise
            # floor, the plain loop against itself (the same pairs of neighbours).
            pairs = [
                (o, (p[0] + q[0]) / 2) for o, p, q in zip(ours, plain, plain_again, strict=True)
            ]
            ratio = statistics.median(o[0] / p for o, p in pairs)
            best = statistics.median(
                o[1] / max(p[1], q[1]) for o, p, q in zip(ours, plain, plain_again, strict=True)
            )
            control = [q[0] / p[0] for p, q in zip(plain, plain_again, strict=True)]
            norms_ratio = statistics.median(
                o[0] / f[0] for o, f in zip(ours, ours_off, strict=True)
            )
            cost = f"{grad_norm_cost(hidden, device):,.0f} us" if hidden is not None else "n/a"
            print(
                f"{label:24s} plain {statistics.median(p[0] for p in plain):>9,.0f} samples/s  "
                f"dltui {statistics.median(o[0] for o in ours):>9,.0f} samples/s  "
                f"ratio {ratio:.3f} ({TARGETS.get(model, 'no target')}; per repeat "
                f"{', '.join(f'{o[0] / p:.2f}' for o, p in pairs)}); best epochs {best:.3f}\n"
                f"{'':24s} noise floor: plain vs plain {statistics.median(control):.3f} "
                f"(per repeat {', '.join(f'{c:.2f}' for c in control)})\n"
                f"{'':24s} grad norms on/off {norms_ratio:.3f}; one grad_norms call "
                f"{cost} (every log_every = 10 steps)  [load {load()}]",
                flush=True,
            )
            loop = interleaved_ratio(files[True], folder / "loop", device, 3 * opts.repeats)
            print(
                f"{'':24s} the loop alone, epochs interleaved in one process: {loop:.3f}  "
                f"[load {load()}]",
                flush=True,
            )
            if len(switch_files) > 1:
                repeats = opts.switch_repeats
                print(f"{'':24s} switches ({repeats} repeats each):", flush=True)
                default = (ratio, statistics.median(extras))
                rows = switch_rows(
                    switch_files, folder / "runs", device, opts.epochs, repeats, default
                )
                for row in rows:
                    print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
