"""Benchmark: open a TensorBoard log of 1,000,000 scalars, dltui against TensorBoard.

    python bench/bench_tensorboard.py [--points 1000000] [--repeats 3] [--follow-rounds 20]

The log is written once by torch's SummaryWriter (10 tags, as the budget states)
and kept in ~/.cache/dltui-bench. Each reader opens it in a fresh process, taking
turns, so both see the same machine: dltui's `TensorBoardLog` and TensorBoard's own
`EventAccumulator` (every scalar kept: size_guidance 0). Prints seconds, peak
memory, the ratio, and the load average with every figure; a run at a load over
1.5 is flagged, since 2 shared cores make its times noise.

Budget (DESIGN.md): <= 0.5 s, >= 60x faster than EventAccumulator, <= 150 MB.

Then a live SummaryWriter log is followed as the dashboard follows it (the reader
polled every 0.1 s, its follow interval): the worst time from a flush to its
points being readable is printed against the issue's 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

OPEN_BUDGET_S, SPEED_UP_BUDGET, MEMORY_BUDGET_MB = 0.5, 60.0, 150.0
FOLLOW_BUDGET_S, FOLLOW_INTERVAL_S = 0.5, 0.1  # the dashboard's follow interval

_PEAK = """
def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
"""

DLTUI = _PEAK + textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    from dltui.logs.tensorboard import TensorBoardLog
    log = TensorBoardLog(sys.argv[1])
    seconds = time.perf_counter() - start
    points = sum(len(log.series(tag)) for tag in log.tags())
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "points": points}))
    """
)

TENSORBOARD = _PEAK + textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    acc.Reload()
    seconds = time.perf_counter() - start
    points = sum(len(acc.Scalars(tag)) for tag in acc.Tags()["scalars"])
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "points": points}))
    """
)

WRITE = textwrap.dedent(
    """
    import math, sys
    from torch.utils.tensorboard import SummaryWriter
    points, folder = int(sys.argv[1]), sys.argv[2]
    writer = SummaryWriter(folder, flush_secs=30)
    tags = [f"train/metric_{i}" for i in range(10)]
    for step in range(points // len(tags)):
        for i, tag in enumerate(tags):
            writer.add_scalar(tag, math.sin(step * 0.01 + i), step)
    writer.close()
    """
)


def log_folder(points: int) -> Path:
    """The benchmark's log, written by SummaryWriter the first time (about a minute)."""
    folder = Path.home() / ".cache" / "dltui-bench" / f"tensorboard-{points}"
    done = folder / "complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*tfevents*"):
            old.unlink()
        print(f"writing {points:,} scalars with SummaryWriter into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-c", WRITE, str(points), str(folder)], check=True)
        done.write_text("")
    return folder


def measure(script: str, folder: Path) -> dict[str, float]:
    """One fresh process opening ``folder``; its seconds, peak memory and point count."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = os.getloadavg()[0]
    return result


def follow_latency(rounds: int) -> list[float]:
    """Seconds from a SummaryWriter's flush to the new points being readable, when the
    log is polled every `FOLLOW_INTERVAL_S` as the dashboard's run view polls it."""
    import tempfile
    import time

    from torch.utils.tensorboard import SummaryWriter

    from dltui.logs.reader import LogRunReader
    from dltui.logs.runs import log_run_at

    latencies = []
    with tempfile.TemporaryDirectory() as tmp:
        writer = SummaryWriter(tmp, flush_secs=3600)
        writer.add_scalar("train/loss", 1.0, 0)
        writer.flush()
        log = log_run_at(Path(tmp))
        assert log is not None, "SummaryWriter wrote no event file"
        reader = LogRunReader(log)
        reader.poll()
        # The follower's clock: it polls at t0, t0 + interval, ... whatever the writer does.
        t0 = time.monotonic()
        for step in range(1, rounds + 1):
            time.sleep(FOLLOW_INTERVAL_S * (1 + step % 7 / 7))  # a flush at any phase
            writer.add_scalar("train/loss", 1.0 / (step + 1), step)
            writer.flush()
            flushed = time.monotonic()
            tick = t0 + math.ceil((flushed - t0) / FOLLOW_INTERVAL_S) * FOLLOW_INTERVAL_S
            while True:
                time.sleep(max(0.0, tick - time.monotonic()))
                reader.poll()
                if len(reader.series("train/loss").step) > step:
                    break
                tick += FOLLOW_INTERVAL_S
            latencies.append(time.monotonic() - flushed)
        writer.close()
    return latencies


def main() -> None:
    """Measure both readers side by side and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--follow-rounds", type=int, default=20)
    args = parser.parse_args()
    folder = log_folder(args.points)
    size_mb = sum(p.stat().st_size for p in folder.glob("*tfevents*")) / 2**20
    print(
        f"log: {args.points:,} scalars, 10 tags, {size_mb:.1f} MiB; load {os.getloadavg()[0]:.2f}"
    )
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for repeat in range(args.repeats):
        ours.append(measure(DLTUI, folder))
        theirs.append(measure(TENSORBOARD, folder))
        print(
            f"  turn {repeat + 1}: dltui {ours[-1]['seconds']:.3f} s, {ours[-1]['peak_mb']:.0f} MB"
            f" (load {ours[-1]['load']:.2f});  TensorBoard {theirs[-1]['seconds']:.2f} s,"
            f" {theirs[-1]['peak_mb']:.0f} MB (load {theirs[-1]['load']:.2f})",
            flush=True,
        )
    for result in ours + theirs:
        assert result["points"] == args.points, result
    dltui_s = statistics.median(r["seconds"] for r in ours)
    tb_s = statistics.median(r["seconds"] for r in theirs)
    peak = max(r["peak_mb"] for r in ours)
    ratio = tb_s / dltui_s
    load = max(r["load"] for r in ours + theirs)
    noisy = load > 1.5
    print()
    print(f"{'':28}{'measured':>14}{'budget':>12}")
    print(f"{'dltui open (median)':28}{dltui_s:>12.3f} s{OPEN_BUDGET_S:>10.1f} s"
          f"  {'met' if dltui_s <= OPEN_BUDGET_S else 'NOT MET'}")  # fmt: skip
    print(f"{'dltui peak memory':28}{peak:>11.0f} MB{MEMORY_BUDGET_MB:>9.0f} MB"
          f"  {'met' if peak <= MEMORY_BUDGET_MB else 'NOT MET'}")  # fmt: skip
    print(f"{'EventAccumulator (median)':28}{tb_s:>12.2f} s")
    print(f"{'speed-up':28}{ratio:>13.0f}x{SPEED_UP_BUDGET:>10.0f}x"
          f"  {'met' if ratio >= SPEED_UP_BUDGET else 'NOT MET'}")  # fmt: skip
    print(f"highest load during the runs: {load:.2f}"
          + ("  (over 1.5: these times are noise; run again when the machine is quiet)"
             if noisy else ""))  # fmt: skip
    follow_load = os.getloadavg()[0]
    latencies = follow_latency(args.follow_rounds)
    worst = max(latencies)
    print(f"{'live follow (worst of ' + str(len(latencies)) + ')':28}{worst:>12.3f} s"
          f"{FOLLOW_BUDGET_S:>10.1f} s  {'met' if worst <= FOLLOW_BUDGET_S else 'NOT MET'}"
          f"  (median {statistics.median(latencies):.3f} s, load {follow_load:.2f})")  # fmt: skip
    if math.isnan(peak):
        print("(peak memory needs /proc/self/status)")


if __name__ == "__main__":
    main()
