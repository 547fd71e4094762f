"""The dashboard does only the work a change calls for: what repaints, what re-lays out, when.

These pin the causes of the budgets in DESIGN.md (first paint, opening a big run,
write-to-screen latency, CPU while following) without timing anything: timings
belong to bench/bench_dashboard.py.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from tui_runs import make_run, run_async, settle, write_experiment
from watchdog.events import DirModifiedEvent, FileModifiedEvent, FileMovedEvent

from dltui.runs import RunChanges, RunReader
from dltui.series.decimate import _first_index_of, _first_index_vectorised, minmax_decimate
from dltui.series.growing import Followed, GrowingArray
from dltui.series.smoothing import StreamingEma, ema_debiased
from dltui.tui.app import DashboardApp
from dltui.tui.key_footer import KeyFooter
from dltui.tui.messages import OpenRun, RunUpdated
from dltui.tui.plotting.axis import format_ticks, nice_ticks, parse_number
from dltui.tui.plotting.figure import _y_range, _y_ticks
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.run import RunScreen
from dltui.tui.watch import DirectoryWatcher, RunFollower, _Handler
from dltui.tui.widgets import (
    EarlyStoppingPane,
    GradNormPane,
    LayerNorms,
    LinePlot,
    OverviewPane,
    PlotSeries,
    RunSummary,
    SystemPane,
)

# ------------------------------------------------------------------ plotting, no terminal


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 0.999])
def test_streaming_ema_matches_the_whole_series_average(weight: float) -> None:
    rng = np.random.default_rng(int(weight * 1000))
    values = rng.standard_normal(3000)
    values[:50] *= 1e9  # a large start must keep decaying correctly across batches
    values[rng.integers(0, 3000, 40)] = np.nan
    values[[0, 7, 2999]] = [np.nan, np.inf, -np.inf]
    ema = StreamingEma(weight)
    start = 0
    while start < values.size:
        size = int(rng.integers(0, 200))
        ema.extend(values[start : start + size])
        start += size
    assert len(ema) == values.size
    np.testing.assert_allclose(
        ema.values, ema_debiased(values, weight), rtol=1e-9, atol=1e-6, equal_nan=True
    )


def test_streaming_ema_rejects_a_weight_out_of_range() -> None:
    with pytest.raises(ValueError, match="smoothing weight"):
        StreamingEma(1.0)


def test_growing_array_appends_without_losing_earlier_views() -> None:
    grown = GrowingArray()
    grown.extend([1, 2, 3])
    early = grown.values
    for _ in range(2000):
        grown.extend([4.0])
    assert len(grown) == 2003
    assert early.tolist() == [1.0, 2.0, 3.0]  # a view handed out earlier stays valid
    assert grown.values[:4].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_followed_tells_growth_from_a_different_series() -> None:
    followed = Followed()
    assert followed.continued_by(np.array([5.0]))
    followed.take(np.array([1.0, np.nan, 3.0]))
    assert followed.continued_by(np.array([1.0, np.nan, 3.0, 4.0]))  # grew (NaN compares)
    assert not followed.continued_by(np.array([1.0, np.nan]))  # shrank: a reset
    assert not followed.continued_by(np.array([9.0, np.nan, 3.0, 4.0]))  # another series


@pytest.mark.parametrize("n", [300, 5000, 60_000, 400_000])
def test_vectorised_and_bucketwise_first_index_agree(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.standard_normal(n)
    values[rng.integers(0, n, n // 50)] = np.nan
    values[: n // 20] = np.nan  # whole buckets without a finite value
    starts = np.unique(np.linspace(0, n, 150, endpoint=False).astype(np.intp))
    counts = np.diff(np.append(starts, n))
    with np.errstate(invalid="ignore"):
        mins = np.fmin.reduceat(values, starts)
        maxs = np.fmax.reduceat(values, starts)
    for targets, minimum in ((mins, True), (maxs, False)):
        fast = _first_index_vectorised(values, targets, starts, counts)
        chosen = _first_index_of(values, targets, starts, counts, minimum=minimum)
        assert fast.tolist() == chosen.tolist()
        finite = ~np.isnan(targets)
        assert np.array_equal(values[fast[finite]], targets[finite])


def test_decimation_keeps_spikes_on_the_vectorised_path() -> None:
    x = np.arange(4000, dtype=float)
    y = np.zeros(4000)
    y[1234], y[2345] = 50.0, -50.0
    dx, dy = minmax_decimate(x, y, 100)
    assert dy.max() == 50.0 and dy.min() == -50.0
    assert dx[dy.argmax()] == 1234.0 and dx[dy.argmin()] == 2345.0


@pytest.mark.parametrize(
    "value", [0.0, 1.0, 0.01, 1e-3, 3e-4, 2.5e-4, 5e-5, 3e-7, 12345.0, 1.2e7, -4e-4]
)
@pytest.mark.parametrize("rows", [3, 6, 12, 30])
def test_a_flat_series_gets_distinct_truthful_tick_labels(value: float, rows: int) -> None:
    lo, hi, _flat = _y_range([np.full(10, value)])
    ticks, labels = _y_ticks(lo, hi, rows, log_y=False)
    assert len(set(labels)) == len(labels), labels
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=1.0)
    for tick, label in zip(ticks, labels, strict=True):
        assert math.isclose(parse_number(label), tick, abs_tol=0.01 * step), (tick, label)


def test_tick_labels_get_the_digits_a_narrow_range_needs() -> None:
    labels = format_ticks(nice_ticks(0.00101, 0.00102, 5))
    assert len(set(labels)) == len(labels)
    assert parse_number("3.4k") == 3400.0 and parse_number("2e-05") == 2e-05


def _grown(n: int) -> PlotSeries:
    step = np.arange(n)
    return PlotSeries("train/loss", 1 / (step + 1.0), step, step / 100, 1e9 + step, key="a")


def test_a_plot_fed_a_growing_series_draws_what_a_fresh_plot_draws() -> None:
    live = LinePlot("loss", smoothing=0.9)
    for n in (10, 11, 400, 401, 5000):
        live.set_series([_grown(n)])
        live.build_frame(80, 20)
    for axis in ("step", "epoch", "time"):
        live.x_axis = axis  # type: ignore[assignment]
        fresh = LinePlot("loss", smoothing=0.9)
        fresh.x_axis = axis  # type: ignore[assignment]
        fresh.set_series([_grown(5000)])
        assert live.build_frame(80, 20).text == fresh.build_frame(80, 20).text
    # A different series under the same name (a reset) is smoothed again from scratch.
    reset = PlotSeries("train/loss", np.full(30, 2.0), np.arange(30), key="a")
    live.set_series([reset])
    live.x_axis = "step"
    np.testing.assert_allclose(live._smooth(reset), np.full(30, 2.0))


# ------------------------------------------------------------------ panes in an app


class PaneApp(App[None]):
    """Panes in a column, each with a fixed or automatic height as a screen would give."""

    CSS = "#fixed { height: 8; }"

    def __init__(self, *panes: Widget) -> None:
        super().__init__()
        self.panes = panes

    def compose(self) -> ComposeResult:
        yield from self.panes


def record_refreshes(widget: Widget) -> list[dict[str, Any]]:
    """Every ``refresh`` call the widget makes from now on, by its keyword arguments."""
    calls: list[dict[str, Any]] = []
    original = widget.refresh

    def refresh(*regions: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*regions, **kwargs)

    widget.refresh = refresh  # type: ignore[method-assign]
    return calls


STOPPING = {"monitor": "val/loss", "value": 0.5, "best": 0.4, "wait": 1, "patience": 5}


@run_async
async def test_panes_repaint_only_when_their_content_changed() -> None:
    stopping = EarlyStoppingPane()
    grads = GradNormPane(id="fixed")
    system = SystemPane()
    app = PaneApp(stopping, grads, system)
    async with app.run_test(size=(80, 40)) as pilot:
        stopping.show(STOPPING, {"monitor": "val/loss"})
        norms = [LayerNorms("dense", np.array([1.0, 0.5]))]
        grads.show(norms, np.array([2.0, 1.0]))
        system.show({"system/cpu_percent": ([1.0, 2.0], [10.0, 20.0])})
        await pilot.pause()
        calls = {pane: record_refreshes(pane) for pane in (stopping, grads, system)}

        # The same data again (a fresh view of the same buffers): nothing to do.
        stopping.show(dict(STOPPING), {"monitor": "val/loss"})
        grads.show([LayerNorms("dense", np.array([1.0, 0.5]))], np.array([2.0, 1.0]))
        system.show({"system/cpu_percent": (np.array([1.0, 2.0]), np.array([10.0, 20.0]))})
        assert all(not made for made in calls.values())

        # New values on as many lines: a repaint of the pane, no layout of the screen.
        stopping.show({**STOPPING, "value": 0.45, "wait": 2}, {"monitor": "val/loss"})
        grads.show([LayerNorms("dense", np.array([1.0, 0.5, 0.25]))], np.array([2.0, 1.0, 0.5]))
        system.show({"system/cpu_percent": ([1.0, 2.0, 3.0], [10.0, 20.0, 30.0])})
        for made in calls.values():
            assert made and not any(call.get("layout") for call in made)
        await pilot.pause()
        assert "0.45" in str(stopping.render())

        # More lines on an automatic height: now the screen must be laid out again.
        calls[stopping].clear()
        stopping.show({**STOPPING, "stopped": True, "reason": "patience ran out"}, None)
        assert any(call.get("layout") for call in calls[stopping])
        # A pane with a height of its own never asks for a layout, whatever it shows.
        calls[grads].clear()
        grads.show([LayerNorms(f"layer{i}", np.ones(3)) for i in range(5)], None)
        assert calls[grads] and not any(call.get("layout") for call in calls[grads])


@run_async
async def test_overview_repaints_the_facts_line_alone_for_a_new_step() -> None:
    overview = OverviewPane()
    app = PaneApp(overview)
    async with app.run_test(size=(100, 30)) as pilot:
        overview.show_summary(RunSummary(state="running", step=100, epoch=1.0, epochs=5))
        await pilot.pause()
        facts = overview.query_one("#overview-facts")
        updates: list[bool] = []
        original = facts.update  # type: ignore[attr-defined]

        def update(content: Any, *, layout: bool = True) -> None:
            updates.append(layout)
            original(content, layout=layout)

        facts.update = update  # type: ignore[attr-defined]
        overview.show_summary(RunSummary(state="running", step=100, epoch=1.0, epochs=5))
        assert updates == []  # the same facts: nothing at all
        overview.show_summary(RunSummary(state="running", step=110, epoch=1.0, epochs=5))
        assert updates == [False]  # a heartbeat: repaint, no layout
        table_calls = record_refreshes(overview.query_one("#overview-layers"))
        overview.show_model(None)
        assert table_calls == []  # no model before, none now: the table is left alone
        await pilot.pause()
        assert "step 110" in overview.facts_text().plain


# ------------------------------------------------------------------ the run view


class Spy:
    """Counts calls of a method on one object, then calls through."""

    def __init__(self, target: Any, name: str) -> None:
        self.calls = 0
        original = getattr(target, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        setattr(target, name, spy)


@run_async
async def test_a_heartbeat_repaints_the_status_but_not_the_plots(tmp_path: Path) -> None:
    writer = make_run(tmp_path / "runs", "spirals", "20260101-000000-live", keep_open=True)
    run_dir = writer.run_dir  # type: ignore[union-attr]
    app = DashboardApp(tmp_path / "experiments", tmp_path / "runs", tmp_path / "themes",
                       watch=False, layer_tables=False, follow_interval=60)  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        app.post_message(OpenRun(run_dir))
        await settle(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.reader)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await settle(pilot, lambda: bool(screen.query("#plot-loss")))
        plots = {plot: Spy(plot, "set_series") for plot in screen.query(LinePlot)}
        footer = screen.query_one(KeyFooter)
        footer_repaints = footer.repaints
        panes = [Spy(pane, "content_changed") for pane in screen.query(".pane")
                 if hasattr(pane, "content_changed")]  # fmt: skip

        screen.post_message(RunUpdated(run_dir, RunChanges(status=True)))
        await settle(pilot, lambda: screen.updates >= 1)
        assert all(spy.calls == 0 for spy in plots.values())
        assert all(spy.calls == 0 for spy in panes)
        assert footer.repaints == footer_repaints  # still running: the same keys, no repaint

        screen.post_message(RunUpdated(run_dir, RunChanges(tags={"val/loss"}, points=1)))
        await settle(pilot, lambda: screen.updates >= 2)
        loss = screen.query_one("#plot-loss", LinePlot)
        assert plots[loss].calls == 1
        assert all(spy.calls == 0 for plot, spy in plots.items() if plot is not loss)
    writer.close("finished")  # type: ignore[union-attr]


class FakeReader:
    """A reader whose run has news on every poll, as a trainer flushing all the time."""

    def __init__(self, news: bool = True) -> None:
        self.news = news
        self.polls = 0
        self.run_dir = Path("/nonexistent/run")  # no files to watch: polled on its interval

    def poll(self) -> RunChanges:
        self.polls += 1
        return RunChanges(tags={"train/loss"}, points=1) if self.news else RunChanges()


def test_the_follower_folds_a_stream_of_news_into_spaced_reports() -> None:
    times: list[float] = []
    follower = RunFollower(FakeReader(), lambda _changes: times.append(time.monotonic()),
                           interval=0.01, min_gap=0.1)  # fmt: skip
    follower.start()
    time.sleep(0.65)
    follower.stop()
    assert 3 <= len(times) <= 8, times  # about 0.65 / 0.1, fewer on a loaded machine
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.095


def test_the_follower_posts_nothing_when_a_poll_finds_nothing() -> None:
    reader = FakeReader(news=False)
    posted: list[Any] = []
    follower = RunFollower(reader, posted.append, interval=0.01, min_gap=0.0)
    follower.start()
    time.sleep(0.2)
    follower.stop()
    assert reader.polls >= 5 and posted == []


def test_the_follower_polls_at_once_when_the_run_files_change(tmp_path: Path) -> None:
    writer = make_run(tmp_path / "runs", "spirals", "20260101-000000-fast", keep_open=True)
    reader = RunReader(writer.run_dir)  # type: ignore[union-attr]
    arrived = threading.Event()
    # Polled only every 30 s: only the stat check can notice the write in time.
    follower = RunFollower(reader, lambda _changes: arrived.set(), interval=30, min_gap=0.0)
    follower.start()
    try:
        time.sleep(0.1)
        writer.scalar("train/loss", 0.1, 10_000, 99.0)  # type: ignore[union-attr]
        writer.flush()  # type: ignore[union-attr]
        assert arrived.wait(5.0)
    finally:
        follower.stop()
        writer.close("finished")  # type: ignore[union-attr]


# ------------------------------------------------------------------ folders and footer


def _changes_seen(kind: str, root: Path, events: list[Any]) -> list[frozenset[Path]]:
    seen: list[frozenset[Path]] = []
    watcher = DirectoryWatcher({kind: root}, lambda _k, _r, paths: seen.append(paths))
    handler = _Handler(watcher, kind, root)
    for event in events:
        handler.on_any_event(event)
    return seen


def test_the_folder_watcher_ignores_a_live_runs_busy_files(tmp_path: Path) -> None:
    run = tmp_path / "spirals" / "20260101-000000-live"
    seen = _changes_seen("runs", tmp_path, [
        FileModifiedEvent(str(run / "scalars.bin")),
        FileModifiedEvent(str(run / "events.jsonl")),
        FileModifiedEvent(str(run / ".status.json.123.tmp")),
        FileMovedEvent(str(run / ".status.json.123.tmp"), str(run / "status.json")),
        DirModifiedEvent(str(run)),  # the folder's mtime moves with every rename in it
    ])  # fmt: skip
    assert seen == []
    seen = _changes_seen("runs", tmp_path, [
        FileMovedEvent(str(run / ".meta.json.9.tmp"), str(run / "meta.json")),
    ])  # fmt: skip
    assert seen == [frozenset({run / "meta.json"})]


@run_async
async def test_the_browser_rereads_the_folders_only_when_shown(tmp_path: Path) -> None:
    write_experiment(tmp_path / "experiments", "spirals")
    run_dir = make_run(tmp_path / "runs", "spirals", "20260101-000000-done")
    app = DashboardApp(tmp_path / "experiments", tmp_path / "runs", tmp_path / "themes",
                       watch=False, layer_tables=False)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.catalog)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        reloads = Spy(browser, "reload")
        app.post_message(OpenRun(Path(str(run_dir))))
        await settle(pilot, lambda: isinstance(app.screen, RunScreen))
        from dltui.tui.messages import DirectoryChanged

        for _ in range(5):
            browser.post_message(DirectoryChanged("runs", tmp_path / "runs"))
        await settle(pilot)
        assert reloads.calls == 0
        app.pop_screen()
        await settle(pilot, lambda: reloads.calls == 1)


@run_async
async def test_the_footer_is_rebuilt_only_when_its_keys_change(tmp_path: Path) -> None:
    app = DashboardApp(tmp_path / "experiments", tmp_path / "runs", tmp_path / "themes",
                       watch=False, layer_tables=False)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen) and app.screen.catalog)
        footer = app.screen.query_one(KeyFooter)
        await settle(pilot)
        repaints, keys_before = footer.repaints, len(footer.entries()[0])
        for _ in range(5):
            app.screen.refresh_bindings()
        await settle(pilot)
        assert footer.repaints == repaints
        app.set_keymap({"app.help": "f1"})  # a key's label changes: one repaint
        await settle(pilot, lambda: footer.repaints > repaints)
        await asyncio.sleep(0.05)
        assert footer.repaints == repaints + 1 and len(footer.entries()[0]) == keys_before
        assert "f1" in str(footer.render())


# ------------------------------------------------------------------ start-up


def test_the_first_paint_comes_before_numpy_pydantic_and_watchdog(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from dltui.tui.app import DashboardApp
        from dltui.tui.screens.browser import BrowserScreen

        seen = {{}}
        painted = BrowserScreen._first_painted

        def probe(self):
            seen["modules"] = set(sys.modules)
            painted(self)

        BrowserScreen._first_painted = probe
        app = DashboardApp({str(tmp_path)!r}, {str(tmp_path)!r}, {str(tmp_path)!r},
                           exit_after_paint=True)
        app.run(headless=True, size=(100, 30))
        assert app.first_paint_time is not None
        heavy = ("numpy.", "pydantic", "watchdog", "torch", "dltui.spec", "dltui.runs")
        print(sorted(m for m in seen["modules"] if m == "numpy" or m.startswith(heavy)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
