"""Benchmark the run directory: logging cost, opening a 1M-point run, polling.

    python bench/bench_runs.py [--points 1000000]

Prints one table comparing each number with its budget (docs/run-format.md,
DESIGN.md) and the reference tools measured on this machine earlier.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from dltui.runs import RunReader, RunWriter, discover_runs
from dltui.tracking import Run

WANDB_LOG_US = 286.0  # offline wandb.log, measured here
LOG_BUDGET_US = 10.0
OPEN_BUDGET_S, OPEN_BUDGET_MB = 0.5, 100.0
TENSORBOARD_S, TENSORBOARD_MB = 34.0, 271.0

OPEN_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time

    def peak_kb():
        # VmHWM is this process's own peak; ru_maxrss on Linux can carry over the
        # parent's peak from before exec, which would charge the bench to the reader.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    import numpy  # part of any reader's baseline
    from dltui.runs import RunReader
    baseline = peak_kb()
    start = time.perf_counter()
    reader = RunReader(sys.argv[1])
    seconds = time.perf_counter() - start
    points = sum(len(reader.series(tag)) for tag in reader.tags())
    print(json.dumps({"seconds": seconds, "peak_kb": peak_kb(), "baseline_kb": baseline,
                      "points": points}))
    """
)


def per_call_us(call, calls: int = 50_000, repeats: int = 7) -> float:
    """Median microseconds per call over ``repeats`` batches, after a warm-up batch."""
    call(calls)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(calls)
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def bench_logging(root: Path) -> tuple[float, float]:
    """Cost of Run.log({2 scalars}) and of RunWriter.scalar(), with the flusher running."""
    writer = RunWriter.create(root, "bench-log")
    run = Run(writer)

    def log_calls(n: int) -> None:
        log = run.log
        for _ in range(n):
            log({"train/loss": 0.5, "lr": 0.001})

    def scalar_calls(n: int) -> None:
        scalar = writer.scalar
        for i in range(n):
            scalar("train/loss", 0.5, i)

    log_us = per_call_us(log_calls)
    scalar_us = per_call_us(scalar_calls)
    run.finish()
    return log_us, scalar_us


def make_big_run(root: Path, points: int, tags: int = 10) -> Path:
    """A run of ``points`` scalars spread over ``tags`` tags, written by RunWriter."""
    writer = RunWriter.create(root, "bench-open", flush_interval=1.0)
    names = [f"tag/{i}" for i in range(tags)]
    for step in range(points // tags):
        writer.scalars(dict.fromkeys(names, step * 0.001), step, epoch=step / 1000)
    writer.close()
    return writer.run_dir


def bench_open(run_dir: Path) -> dict[str, float]:
    """Open the run in a fresh interpreter: seconds, peak RSS (MB) and baseline RSS (MB)."""
    result = subprocess.run(
        [sys.executable, "-c", OPEN_SCRIPT, str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout)
    return {
        "seconds": data["seconds"],
        "peak_mb": data["peak_kb"] / 1024,
        "baseline_mb": data["baseline_kb"] / 1024,
        "points": data["points"],
    }


def bench_poll(root: Path, appended: int = 100, repeats: int = 200) -> float:
    """Median microseconds of RunReader.poll() after ``appended`` new points."""
    writer = RunWriter.create(root, "bench-poll", flush_interval=60.0)
    writer.scalars({"train/loss": 1.0, "lr": 0.1}, 0)
    writer.flush()
    reader = RunReader(writer.run_dir)
    samples = []
    step = 1
    for _ in range(repeats):
        for _ in range(appended // 2):
            writer.scalars({"train/loss": 1.0 / step, "lr": 0.1}, step)
            step += 1
        writer.flush()
        start = time.perf_counter()
        changes = reader.poll()
        samples.append((time.perf_counter() - start) * 1e6)
        assert changes.points == appended
    writer.close()
    return statistics.median(samples)


def bench_discover(root: Path, runs: int = 300) -> float:
    """Median milliseconds of discover_runs() over ``runs`` finished runs."""
    base = root / "discover"
    for index in range(runs):
        writer = RunWriter.create(base, f"exp{index % 5}", flush_interval=60.0)
        for epoch in range(20):
            writer.event("epoch", epoch=epoch, step=epoch * 100, metrics={"val/loss": 1.0})
            writer.event("early_stopping", epoch=epoch, monitor="val/loss", best=1.0, best_epoch=0)
        writer.close()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        found = discover_runs(base)
        samples.append((time.perf_counter() - start) * 1e3)
    assert len(found) == runs
    return statistics.median(samples)


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dltui-bench-") as tmp:
        root = Path(tmp)
        log_us, scalar_us = bench_logging(root)
        start = time.perf_counter()
        big = make_big_run(root, args.points)
        write_s = time.perf_counter() - start
        opened = bench_open(big)
        poll_us = bench_poll(root)
        discover_ms = bench_discover(root)

    points = opened["points"]
    wandb = f"wandb.log {WANDB_LOG_US:.0f} µs"
    rows = [
        ("Run.log({2 scalars})", f"{log_us:.2f} µs", f"≤ {LOG_BUDGET_US:.0f} µs",
         f"{log_us / LOG_BUDGET_US:.2f}x budget; {wandb} ({WANDB_LOG_US / log_us:.0f}x slower)"),
        ("RunWriter.scalar()", f"{scalar_us:.2f} µs", "≲ 2 µs",
         f"{scalar_us / LOG_BUDGET_US:.2f}x the 10 µs budget; {WANDB_LOG_US / scalar_us:.0f}x"
         " faster than wandb.log"),
        (f"write {points:,} points", f"{write_s:.2f} s", "-",
         f"{write_s / points * 1e6:.2f} µs/point incl. flushes"),
        (f"open {points:,} points", f"{opened['seconds']:.3f} s", f"≤ {OPEN_BUDGET_S} s",
         f"{opened['seconds'] / OPEN_BUDGET_S:.2f}x budget; TensorBoard {TENSORBOARD_S:.0f} s"),
        ("  peak RSS (whole process)", f"{opened['peak_mb']:.0f} MB", f"≤ {OPEN_BUDGET_MB:.0f} MB",
         f"interpreter+numpy alone {opened['baseline_mb']:.0f} MB;"
         f" TensorBoard {TENSORBOARD_MB:.0f} MB"),
        ("poll() after 100 new points", f"{poll_us:.0f} µs", "-", "reads only the appended bytes"),
        ("discover_runs(), 300 runs", f"{discover_ms:.0f} ms", "-",
         f"{discover_ms / 300 * 1e3:.0f} µs per run (meta + status + log tail)"),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("what", "measured", "budget", "compared")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
