"""Train every shipped example with `dltui run` and print the quality table.

The README's table of examples comes from this script: wall time of the whole
`dltui run` process (imports included) and the quality the run reached, read
back from its run directory, never from the trainer's printout.

    python bench/bench_examples.py [--only NAME ...] [--device cpu]

Quality, by task: classification -> test accuracy; regression -> test R²;
language model -> final validation perplexity; GAN -> how many of the ring's
modes the final samples cover, and the share of samples near some mode.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# transfer-finetune starts from transfer-pretrain's checkpoint, so order matters.
ORDER = [
    "perceptron",
    "mlp-spirals",
    "cnn-digits",
    "residual-digits",
    "rnn-sine",
    "gru-sine",
    "lstm-chars",
    "transformer-chars",
    "gan-ring",
    "transfer-pretrain",
    "transfer-finetune",
]


def quality(run_dir: Path) -> str:
    """The headline number of a finished run, read from its records."""
    from dltui.runs import RunReader
    from dltui.spec import load_experiment

    reader = RunReader(run_dir)
    reader.poll()
    experiment = load_experiment(run_dir / "experiment.toml", check_files=False)
    test = reader.latest("test") or {}
    if experiment.is_gan:
        return gan_quality(reader, experiment)
    for key, label in (("test/accuracy", "test accuracy"), ("test/r2", "test R²")):
        if key in test:
            value = test[key]
            return f"{label} {value:.1%}" if "accuracy" in key else f"{label} {value:.3f}"
    perplexity = reader.series("val/perplexity").value
    if len(perplexity):
        return f"val perplexity {perplexity[-1]:.2f}"
    return "no quality recorded"


def gan_quality(reader: object, experiment: object) -> str:
    """Modes covered by the last samples, and the share of samples near a mode."""
    sample = reader.latest("sample") or {}  # type: ignore[attr-defined]
    points = sample.get("points") or []
    data = experiment.data  # type: ignore[attr-defined]
    centres = [
        (
            data.radius * math.cos(2 * math.pi * k / data.modes),
            data.radius * math.sin(2 * math.pi * k / data.modes),
        )
        for k in range(data.modes)
    ]
    near = [0] * data.modes
    close = 0
    for x, y in points:
        distances = [math.hypot(x - cx, y - cy) for cx, cy in centres]
        k = min(range(data.modes), key=distances.__getitem__)
        if distances[k] <= 4 * data.std:
            near[k] += 1
            close += 1
    # A mode counts as covered when at least 2 % of the samples sit on it.
    covered = sum(1 for n in near if n >= 0.02 * max(1, len(points)))
    return f"{covered}/{data.modes} modes, {close / max(1, len(points)):.0%} of samples on a mode"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="example names (default: all)")
    parser.add_argument("--device", default=None)
    opts = parser.parse_args()
    names = opts.only or ORDER
    print("| example | what it is | time | quality |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        for name in names:
            path = ROOT / "experiments" / f"{name}.toml"
            command = [sys.executable, "-m", "dltui", "run", str(path), "--runs", str(runs)]
            if opts.device:
                command += ["--device", opts.device]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - start
            from dltui.spec import load_experiment

            experiment = load_experiment(path, check_files=False)
            run_dirs = sorted((runs / experiment.display_name).glob("*"))
            if done.returncode not in (0, 3) or not run_dirs:
                print(
                    f"| {name} | exit {done.returncode} | {elapsed:.0f} s | "
                    f"{done.stdout.strip().splitlines()[-1:]} |"
                )
                continue
            print(
                f"| `{name}` | {experiment.description} | {elapsed:.0f} s | "
                f"{quality(run_dirs[-1])} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
