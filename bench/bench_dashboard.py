"""Dashboard budgets, measured in one run: start-up, opening a big run, latency, CPU.

    python bench/bench_dashboard.py

Prints each number next to its budget (docs: DESIGN.md, "Budgets"):
start to first paint <= 0.5 s; open a run of 1,000,000 points <= 0.5 s and
<= 100 MB; a metric written by a trainer visible <= 0.25 s after the write
(single points, and every point of a run streaming 100 points a second);
dashboard CPU while following a live run <= 10 % of one core.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil

from dltui.runs import RunWriter
from dltui.tui.app import DashboardApp
from dltui.tui.messages import OpenRun
from dltui.tui.screens.run import RunScreen
from dltui.tui.widgets import LinePlot

POINTS = 1_000_000


def report(what: str, value: float, unit: str, budget: float) -> None:
    """One line: the number, its budget, and whether it is within."""
    verdict = "ok" if value <= budget else "OVER BUDGET"
    print(f"{what:<48} {value:10.3f} {unit:<3} (budget {budget:g} {unit})  {verdict}")


def start_to_first_paint(
    folder: Path, repeats: int = 3, env: dict[str, str] | None = None
) -> float:
    """Median seconds from launching the process to its first painted screen (headless).

    The clock starts in this process just before the child is spawned, so the
    interpreter's own start-up counts. (The child's ``psutil`` creation time is
    no use here: it is derived from the boot time, which the kernel reports in
    whole seconds, and read about a second early on this machine.)
    """
    code = textwrap.dedent(
        f"""
        from dltui.tui.app import DashboardApp
        app = DashboardApp({str(folder / "experiments")!r}, {str(folder / "runs")!r},
                           {str(folder / "themes")!r}, exit_after_paint=True, watch=False)
        app.run(headless=True, size=(120, 40))
        print(app.first_paint_time)
        """
    )
    times = []
    for _ in range(repeats):
        launched = time.time()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        times.append(float(out.stdout.strip().splitlines()[-1]) - launched)
    return statistics.median(times)


def write_big_run(runs: Path) -> Path:
    """A finished run with 1,000,000 train/loss points (plus a few validation points)."""
    with RunWriter.create(runs, "big", run_id="20260101-000000-big0") as writer:
        rng = np.random.default_rng(0)
        values = np.exp(-np.arange(POINTS) / 2e5) + 0.05 * rng.standard_normal(POINTS)
        for step, value in enumerate(values.tolist()):
            writer.scalar("train/loss", value, step, step / 10_000)
            if step % 10_000 == 0:
                writer.scalar("val/loss", value + 0.1, step, step / 10_000)
    return writer.run_dir


def reader_rss(run_dir: Path) -> tuple[float, float]:
    """Seconds and MB of RSS growth to read the run, in a fresh process."""
    code = textwrap.dedent(
        f"""
        import time, psutil
        from dltui.runs import RunReader
        p = psutil.Process(); before = p.memory_info().rss
        t = time.perf_counter(); r = RunReader({str(run_dir)!r}); t = time.perf_counter() - t
        print(t, (p.memory_info().rss - before) / 1e6)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, mb = out.stdout.split()
    return float(seconds), float(mb)


async def wait_for(predicate, timeout: float = 30.0, step: float = 0.002) -> float:
    """Seconds until ``predicate()`` holds (polled inside the app's event loop)."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(step)
    return time.perf_counter() - start


async def open_in_app(folder: Path, run_dir: Path) -> float:
    """Seconds from asking for the run view to the loss plot holding every point."""
    app = DashboardApp(folder / "experiments", folder / "runs", folder / "themes", watch=False,
                       layer_tables=False)  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        app.post_message(OpenRun(run_dir))

        def drawn() -> bool:
            screen = app.screen
            if not isinstance(screen, RunScreen) or screen.reader is None:
                return False
            plots = list(screen.query("#plot-loss").results(LinePlot))
            return bool(plots and plots[0].series and len(plots[0].series[0].y) == POINTS)

        await wait_for(drawn)
        await pilot.pause()  # and painted
        return time.perf_counter() - start


WRITER = textwrap.dedent(
    """
    import sys, time
    from dltui.runs import RunWriter
    w = RunWriter.open(sys.argv[1])
    w.status("running")
    step = 10_000
    end = time.time() + float(sys.argv[2])
    while time.time() < end:
        for _ in range(10):  # 100 points/s, about what a fast trainer logs
            step += 1
            w.scalar("train/loss", time.time(), step, step / 100)  # when it was written
        w.heartbeat(step=step)
        time.sleep(0.1)
    w.close("finished")
    """
)


async def follow(folder: Path) -> tuple[list[float], list[float], float]:
    """Latencies (s) of single appended points and of points streamed by a live run, and
    CPU % while that run writes."""
    with RunWriter.create(folder / "runs", "live", run_id="20260101-000000-live") as writer:
        writer.status("running")
        for step in range(1000):
            writer.scalar("train/loss", 1.0 / (step + 1), step, step / 100)
        writer.flush()
        run_dir = writer.run_dir
        app = DashboardApp(folder / "experiments", folder / "runs", folder / "themes",
                           watch=False, layer_tables=False)  # fmt: skip
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            app.post_message(OpenRun(run_dir))
            await wait_for(
                lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None
            )
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await wait_for(lambda: bool(screen.query("#plot-loss")))
            plot = screen.query_one("#plot-loss", LinePlot)
            await wait_for(lambda: bool(plot.series))
            latencies = []
            for i in range(20):
                count = len(plot.series[0].y)
                written = time.perf_counter()
                # The trainer's writer flushes on its own every 0.1 s; we add one point
                # and measure until the plot holds it.
                writer.scalar("train/loss", 0.5, 2000 + i, 20.0)
                await wait_for(lambda c=count: len(plot.series[0].y) > c)
                latencies.append(time.perf_counter() - written)
                await asyncio.sleep(0.05)
    # A trainer in another process writes 100 points/s (each point's value is when it
    # was written): first the latency of every point while it streams, watched from
    # the event loop; then, with nothing watching, the dashboard's CPU for 10 s.
    seconds, streaming = 10.0, 5.0
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(run_dir), str(seconds + streaming + 3)]
    )
    streamed: list[float] = []
    try:
        app = DashboardApp(folder / "experiments", folder / "runs", folder / "themes",
                           watch=True, layer_tables=False)  # fmt: skip
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            app.post_message(OpenRun(run_dir))
            await wait_for(
                lambda: isinstance(app.screen, RunScreen) and app.screen.reader is not None
            )
            await asyncio.sleep(1.0)  # settle after opening
            assert isinstance(app.screen, RunScreen)
            plot = app.screen.query_one("#plot-loss", LinePlot)
            seen = len(plot.series[0].y)
            end = time.perf_counter() + streaming
            while time.perf_counter() < end:
                await asyncio.sleep(0.005)
                y = plot.series[0].y
                if len(y) > seen:  # the oldest new point waited longest
                    streamed.append(time.time() - float(y[seen]))
                    seen = len(y)
            me = psutil.Process()
            cpu0, wall0 = sum(me.cpu_times()[:2]), time.perf_counter()
            await asyncio.sleep(seconds)
            cpu = (sum(me.cpu_times()[:2]) - cpu0) / (time.perf_counter() - wall0) * 100
    finally:
        process.wait(timeout=30)
    return latencies, streamed, cpu


def main() -> None:
    """Run every measurement and print it against its budget."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("experiments", "runs", "themes"):
            (folder / sub).mkdir()
        report("start to first paint (median of 3)", start_to_first_paint(folder), "s", 0.5)
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            # This environment compiles every module from source at each start; an
            # installed dltui has its bytecode cached. Measure that too, cache kept aside.
            env = dict(os.environ, PYTHONPYCACHEPREFIX=str(folder / "pycache"))
            env.pop("PYTHONDONTWRITEBYTECODE")
            start_to_first_paint(folder, 1, env)  # fills the cache
            seconds = start_to_first_paint(folder, 3, env)
            report("  the same, with a bytecode cache", seconds, "s", 0.5)
        big = write_big_run(folder / "runs")
        seconds, mb = reader_rss(big)
        report(f"read a run of {POINTS:,} points (RunReader)", seconds, "s", 0.5)
        report(f"RSS growth reading {POINTS:,} points", mb, "MB", 100)
        report("open it in the run view, plotted", asyncio.run(open_in_app(folder, big)), "s", 0.5)
        latencies, streamed, cpu = asyncio.run(follow(folder))
        report("write -> redraw latency (median of 20)", statistics.median(latencies), "s", 0.25)
        report("write -> redraw latency (max of 20)", max(latencies), "s", 0.25)
        streamed.sort()
        report("  streaming 100 points/s: median", statistics.median(streamed), "s", 0.25)
        report("  streaming 100 points/s: 95th percentile", streamed[int(0.95 * len(streamed))],
               "s", 0.25)  # fmt: skip
        report("dashboard CPU following a live run", cpu, "%", 10)


if __name__ == "__main__":
    main()
