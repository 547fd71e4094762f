"""`dltui plot`: plotext drawing every point against dltui's decimated lines, and the command.

    python bench/bench_report.py [--points 1000000]

1. One chart of N points, 100x25, lines joined, rendered to text by plotext: all N
   points as they are, against the same series min/max-decimated to the chart's
   width first (what `dltui plot` does). Both really draw: the braille glyphs on the
   canvas are counted and printed. Raw plotext is timed up to 100,000 points only;
   past that it takes tens of seconds.
2. `python -m dltui plot RUN` as a process on a run of ``--points`` points (its
   imports included), against `python -c "import numpy, plotext"` alone: the budget
   is under a second for a 1,000,000-point run.

Every row prints the one-minute load (``os.getloadavg()``) it was measured at:
this machine's two cores are shared, and timings above load 1.5 say as much about
the neighbours as about the code.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dltui.report.charts import Line, canvas_columns, render_chart
from dltui.runs import RunWriter
from dltui.series.decimate import minmax_decimate

WIDTH, HEIGHT = 100, 25
LENGTHS = (1_000, 10_000, 100_000, 1_000_000)
RAW_LIMIT = 100_000
COMMAND_BUDGET_S = 1.0


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def median_s(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``action`` in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def glyphs(text: str) -> int:
    """Braille cells with at least one dot: what was really drawn."""
    return sum(0x2801 <= ord(char) <= 0x28FF for char in text)


def series(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A noisy decaying loss with one spike."""
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=np.float64)
    y = np.exp(-x / max(1, n / 4)) + 0.05 * rng.standard_normal(n)
    y[n // 3] = 10.0
    return x, y


def chart(x: np.ndarray, y: np.ndarray) -> str:
    """The chart of these points, as `dltui plot` renders it (no colour)."""
    return render_chart(
        "loss", [Line("train/loss", x, y)], x_label="step", width=WIDTH, height=HEIGHT, colour=False
    )


def bench_drawing() -> None:
    """Table 1: raw plotext against decimated-then-plotext."""
    print(f"plotext drawing one {WIDTH}x{HEIGHT} chart, lines joined (median; ms)")
    print(
        f"{'points':>10} {'raw':>9} {'glyphs':>6} {'decimated':>10} {'glyphs':>6} "
        f"{'speed-up':>9} {'load':>5}"
    )
    columns = canvas_columns(WIDTH) * 2
    for n in LENGTHS:
        x, y = series(n)
        before = load()

        def decimated(x: np.ndarray = x, y: np.ndarray = y) -> str:
            dx, dy = minmax_decimate(x, y, columns)
            return chart(dx, dy)

        fast = median_s(decimated, 5)
        fast_glyphs = glyphs(decimated())
        if n <= RAW_LIMIT:
            raw = median_s(lambda x=x, y=y: chart(x, y), 3 if n <= 10_000 else 1)
            raw_glyphs = glyphs(chart(x, y))
            raw_text, ratio = f"{raw * 1e3:9.1f}", f"{raw / fast:8.0f}x"
        else:
            raw_text, raw_glyphs, ratio = "   (slow)", 0, "        -"
        print(
            f"{n:>10,} {raw_text} {raw_glyphs:>6} {fast * 1e3:10.1f} {fast_glyphs:>6} "
            f"{ratio} {max(before, load()):5.2f}"
        )


def make_run(root: Path, points: int) -> Path:
    """A run of ``points`` train/loss points and one val/loss point per 10,000."""
    writer = RunWriter.create(root, "big", run_id="big", device="cpu")
    x, y = series(points)
    for step, value in zip(x.astype(int).tolist(), y.tolist(), strict=True):
        writer.scalar("train/loss", value, step, step / 10_000)
        if step % 10_000 == 0:
            writer.scalar("val/loss", value + 0.1, step, step / 10_000)
    writer.close()
    return writer.run_dir


def bench_command(points: int) -> None:
    """Table 2: the whole `dltui plot` process on a big run."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp), points)
        plot = [sys.executable, "-m", "dltui", "plot", str(run), "--width", "100"]
        imports = [sys.executable, "-c", "import numpy, plotext"]

        def timed(command: list[str]) -> float:
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise RuntimeError(done.stderr)
            if command is plot and not glyphs(done.stdout):
                raise RuntimeError("dltui plot drew nothing")
            return elapsed

        timed(plot)  # warm the file cache and the bytecode
        print(f"\n`dltui plot` of a run of {points:,} points, as a process (median of 5)")
        before = load()
        whole = median_s(lambda: timed(plot), 5)
        base = median_s(lambda: timed(imports), 5)
        verdict = "ok" if whole <= COMMAND_BUDGET_S else "OVER BUDGET"
        print(
            f"  dltui plot {whole:.2f} s (budget {COMMAND_BUDGET_S:.0f} s: {verdict}); "
            f"python + numpy + plotext imports alone {base:.2f} s; "
            f"load {max(before, load()):.2f} on {os.cpu_count()} cpus"
        )


def main() -> None:
    """Parse ``--points`` and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, load at start: {load():.2f}")
    bench_drawing()
    bench_command(args.points)


if __name__ == "__main__":
    main()
