"""How long one LinePlot redraw takes, against the 30 ms budget.

Run: ``python bench/bench_plot.py``. The plot is mounted in a headless Textual
app; a redraw is everything between "something changed" and the widget's rows
as Textual strips (decimation, smoothing when the data changed, rasterising,
layout, styles). Two cases per size and length:

* ``resize``: size, theme or a toggle changed; the smoothed series is cached.
* ``new data``: the caches are cold (a series shown for the first time, or a new
  smoothing weight), so the EMA over all points is computed too. A live series
  that grew by a few points costs about what ``resize`` does: its caches are extended.

For reference: the same points through plotext (plotext 6's ``figure.build()``
at the same size, no smoothing, up to 100,000 points: beyond that it takes
seconds), and decimation and smoothing of 1,000,000 points alone.

Each row prints the machine's load (``os.getloadavg()``, one minute) as it was
measured. On a loaded machine the timings say more about the other processes
than about the plot, so a row measured at a load above 1.5 gets no verdict ("not
measured"): run it again when the machine is quieter, or give ``--patience
SECONDS`` to wait (up to that long per row) for the load to drop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from textual.app import App, ComposeResult

from dltui.tui.plotting import ema_debiased, minmax_decimate
from dltui.tui.widgets import LinePlot, PlotSeries

BUDGET_MS = 30.0
MAX_LOAD = 1.5
"""Above this one-minute load average a timing is not taken as a measurement."""
LENGTHS = (1_000, 100_000, 1_000_000)
SIZES = ((100, 25), (200, 50))
REPEATS = 9


def median_ms(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall time of ``action`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def make_series(n: int) -> PlotSeries:
    """A noisy decaying loss with one spike, like a real run."""
    rng = np.random.default_rng(n)
    step = np.arange(n, dtype=np.int64)
    value = np.exp(-step / max(1, n / 4)) + 0.05 * rng.standard_normal(n)
    value[n // 3] = 10.0
    return PlotSeries("train/loss", value, step, step / max(1, n / 50), 1.7e9 + step * 0.01)


class BenchApp(App[None]):
    """A single plot filling the screen."""

    def compose(self) -> ComposeResult:
        yield LinePlot("loss", smoothing=0.6)


def plotext_ms(series: PlotSeries, width: int, height: int) -> float:
    """plotext drawing the same points at the same size, joined by lines, as text."""
    import plotext

    figure = plotext.figure  # plotext 6: one global figure, so not thread-safe
    x = np.asarray(series.step).tolist()
    y = np.asarray(series.y).tolist()

    def build() -> str:
        figure.clear()
        figure.plot_size(width, height)
        # signal() only makes the curve; draw() puts it on the figure. Without it,
        # build() renders empty axes, and that is what used to be timed.
        figure.draw(figure.signal(x, y, marker="braille").lines())
        return str(figure.build().string(colorless=True))

    glyphs = sum(0x2801 <= ord(char) <= 0x28FF for char in build())
    if not glyphs:
        raise RuntimeError("plotext drew no points: the reference would time empty axes")
    return median_ms(build, repeats=3 if len(x) <= 10_000 else 1)


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def wait_for_quiet(patience: float) -> float:
    """Wait up to ``patience`` seconds for the load to drop to `MAX_LOAD`; return it."""
    deadline = time.monotonic() + patience
    current = load()
    while current > MAX_LOAD and time.monotonic() < deadline:
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
        current = load()
    return current


def verdict(times_ms: list[float], load_at: float) -> str:
    """``ok``, ``OVER BUDGET``, or ``not measured`` when the machine was too busy."""
    if load_at > MAX_LOAD:
        return f"not measured (load {load_at:.2f} > {MAX_LOAD}: rerun when quieter)"
    return "ok" if max(times_ms) <= BUDGET_MS else "OVER BUDGET"


async def bench(patience: float = 0.0) -> None:
    """Print the table."""
    print(f"LinePlot redraw, median of {REPEATS} (budget {BUDGET_MS:.0f} ms), smoothing 0.6")
    print(f"cpus: {os.cpu_count()}, load at start: {load():.2f}")
    print(
        f"{'points':>10} {'size':>7} {'resize':>9} {'new data':>9} {'plotext':>9} "
        f"{'load':>6}  verdict"
    )
    for width, height in SIZES:
        app = BenchApp()
        async with app.run_test(size=(width, height)) as pilot:
            plot = app.query_one(LinePlot)
            for n in LENGTHS:
                series = make_series(n)
                plot.set_series([series])
                await pilot.pause()

                def redraw(plot: LinePlot = plot, height: int = height) -> None:
                    plot._frame_key = None  # what a resize or toggle does
                    for y in range(height):
                        plot.render_line(y)

                def redraw_new_data(plot: LinePlot = plot) -> None:
                    plot._smoothed.clear()  # what a series shown for the first time does
                    plot._xs.clear()
                    redraw()

                wait_for_quiet(patience)
                before = load()
                resize = median_ms(redraw)
                fresh = median_ms(redraw_new_data)
                load_at = max(before, load())
                reference = plotext_ms(series, width, height) if n <= 100_000 else float("nan")
                ref = f"{reference:8.1f}" if reference == reference else "  (slow)"
                print(
                    f"{n:>10,} {width:>3}x{height:<3} {resize:8.1f}  {fresh:8.1f}  {ref} "
                    f"{load_at:6.2f}  {verdict([resize, fresh], load_at)}"
                )
    n = 1_000_000
    x = np.arange(n, dtype=np.float64)
    y = np.random.default_rng(0).standard_normal(n)
    decimate = median_ms(lambda: minmax_decimate(x, y, 400))
    smooth = median_ms(lambda: ema_debiased(y, 0.6))
    print(
        f"minmax_decimate, 1,000,000 points to 400 columns: {decimate:.1f} ms (load {load():.2f})"
    )
    print(f"ema_debiased, 1,000,000 points: {smooth:.1f} ms (load {load():.2f})")


def main() -> None:
    """Parse ``--patience`` and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--patience",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"wait up to this long per row for the load to drop to {MAX_LOAD}",
    )
    asyncio.run(bench(parser.parse_args().patience))


if __name__ == "__main__":
    main()
