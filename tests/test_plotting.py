"""Plotting without a terminal: decimation, smoothing, ticks, canvas and layout."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltui.tui.plotting import (
    BrailleCanvas,
    LineStyle,
    Trace,
    ema_debiased,
    format_bytes,
    format_duration,
    format_number,
    format_ticks,
    log_ticks,
    minmax_decimate,
    nice_ticks,
    render_frame,
    time_ticks,
)
from dltui.tui.plotting.sparkline import sparkline


def reference_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's loop, written out plainly."""
    out, last, count = [], 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight**count))
    return np.array(out)


# ------------------------------------------------------------------ decimation


def test_a_single_spike_among_a_million_points_survives() -> None:
    n = 1_000_000
    y = np.random.default_rng(0).normal(size=n)
    y[654_321] = 1e9
    x, d = minmax_decimate(np.arange(n), y, 200)
    assert d.size <= 400
    assert d.max() == 1e9
    assert x[np.argmax(d)] == 654_321
    assert d.min() == y.min()


def test_decimation_keeps_x_order_and_is_exact_for_short_series() -> None:
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(0, 100, 5000))
    y = rng.normal(size=5000)
    dx, dy = minmax_decimate(x, y, 50)
    assert np.all(np.diff(dx) >= 0)
    assert dx.size <= 100
    # Every output point is a real input point.
    lookup = dict(zip(x.tolist(), y.tolist(), strict=True))
    assert all(lookup[a] == b for a, b in zip(dx.tolist(), dy.tolist(), strict=True))
    sx, sy = minmax_decimate([0, 1, 2], [3.0, 1.0, 2.0], 10)
    assert sx.tolist() == [0, 1, 2] and sy.tolist() == [3.0, 1.0, 2.0]


def test_decimation_turns_non_finite_values_into_gaps_without_crashing() -> None:
    n = 100_000
    y = np.ones(n)
    y[40_000:60_000] = np.nan
    y[10] = np.inf
    y[20] = -np.inf
    dx, dy = minmax_decimate(np.arange(n), y, 100)
    assert np.isnan(dy).any()  # the all-NaN buckets are gaps
    assert np.all(dy[np.isfinite(dy)] == 1.0)  # infinities never become extremes
    gap_x = dx[np.isnan(dy)]
    assert np.all((gap_x >= 40_000) & (gap_x < 60_000))


def test_decimation_sorts_unsorted_x_and_drops_points_outside_the_range() -> None:
    dx, dy = minmax_decimate([3, 1, 2, np.nan, 5], [30, 10, 20, 99, 50], 10, x_range=(1, 3))
    assert dx.tolist() == [1, 2, 3]
    assert dy.tolist() == [10, 20, 30]


def test_decimation_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="columns"):
        minmax_decimate([1], [1], 0)
    with pytest.raises(ValueError, match="differ in length"):
        minmax_decimate([1, 2], [1], 5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=300),
    st.integers(min_value=1, max_value=40),
)
def test_decimation_keeps_global_extremes(values: list[float], columns: int) -> None:
    y = np.array(values, dtype=np.float64)
    dx, dy = minmax_decimate(np.arange(y.size), y, columns)
    assert dy.size <= max(2 * columns, 0) or dy.size == y.size
    assert np.all(np.diff(dx) >= 0)
    finite = y[np.isfinite(y)]
    if finite.size:
        assert np.nanmax(dy) == finite.max()
        assert np.nanmin(dy) == finite.min()


# ------------------------------------------------------------------- smoothing


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 0.999])
def test_ema_matches_the_reference_loop(weight: float) -> None:
    rng = np.random.default_rng(int(weight * 1000))
    values = rng.normal(3, 10, 5000)
    values[rng.random(5000) < 0.03] = np.nan
    values[7] = np.inf
    np.testing.assert_allclose(
        ema_debiased(values, weight), reference_ema(values, weight), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("weight", [0.3, 0.6, 0.99])
@pytest.mark.parametrize("length", [1, 2, 26, 27, 28, 54, 55, 1000, 5003])
def test_ema_of_finite_values_matches_the_reference_loop(weight: float, length: int) -> None:
    # All finite is the fast path (worked on in the output itself); the lengths cover
    # no full block, whole blocks only, and whole blocks plus a partial one.
    values = np.random.default_rng(length).normal(3, 10, length)
    np.testing.assert_allclose(
        ema_debiased(values, weight), reference_ema(values, weight), rtol=1e-9, atol=1e-9
    )


def test_ema_is_debiased_and_keeps_gaps() -> None:
    smoothed = ema_debiased([5.0, np.nan, 5.0, 5.0], 0.9)
    assert smoothed[0] == pytest.approx(5.0)  # not pulled towards 0
    assert math.isnan(smoothed[1])
    assert smoothed[3] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="weight"):
        ema_debiased([1.0], 1.0)


# ----------------------------------------------------------------------- ticks


def test_nice_ticks_are_round_and_inside_the_range() -> None:
    assert nice_ticks(0, 1, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.0031, 0.0187, 4) == [0.005, 0.01, 0.015]
    assert nice_ticks(2, 2) == [2]
    assert nice_ticks(math.nan, 1) == []
    ticks = nice_ticks(-37.2, 912.5, 6)
    assert len(ticks) <= 6 and all(-37.2 <= t <= 912.5 for t in ticks)


def test_log_ticks_are_powers_of_ten_and_skip_non_positive() -> None:
    assert log_ticks(1e-4, 10, 6) == [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    assert len(log_ticks(1e-12, 1e12, 4)) <= 4
    assert log_ticks(0, 10) == []
    assert log_ticks(-1, 10) == []


def test_time_ticks_use_human_steps() -> None:
    assert time_ticks(0, 3600, 5) == [0, 900, 1800, 2700, 3600]
    assert time_ticks(0, 45, 4) == [0, 15, 30, 45]


def test_number_formatting() -> None:
    assert [format_number(v) for v in (0, 0.0123, 12.5, 1234, 3.4e6, -2e-5, 1e9)] == [
        "0", "0.0123", "12.5", "1.23k", "3.4M", "-2e-5", "1G"
    ]  # fmt: skip
    assert format_number(math.nan) == "nan" and format_number(-math.inf) == "-inf"
    assert format_ticks([0, 0.25, 0.5]) == ["0", "0.25", "0.5"]
    assert format_ticks([0, 5000, 10000]) == ["0", "5k", "10k"]
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(3 * 2**30) == "3.0 GiB"
    assert [format_duration(s) for s in (1.5, 45, 150, 3900, 90000)] == [
        "1.5s", "45s", "2m30s", "1h05m", "1d01h"
    ]  # fmt: skip


def test_sparkline_keeps_the_peak_of_each_bucket() -> None:
    values = np.zeros(1000)
    values[503] = 10
    line = sparkline(values, 10)
    assert len(line) == 10 and line.count("█") == 1 and line[5] == "█"
    assert sparkline([], 5) == ""


# --------------------------------------------------------------- canvas/layout


def test_canvas_draws_connected_lines_and_breaks_at_nan() -> None:
    canvas = BrailleCanvas(10, 2)
    layer = canvas.new_layer()
    canvas.line(layer, [0, 19, np.nan, 0], [0, 7, 0, 7])
    composed = canvas.compose()
    assert all(len(row) == 10 for row in composed.rows)
    assert all(ch != " " for ch in composed.rows[0][:3])  # the diagonal starts top left
    assert composed.rows[1][0] != " "  # the lone point after the gap
    assert (composed.owner >= -1).all()


def test_dashed_lines_leave_gaps() -> None:
    solid, dashed = BrailleCanvas(20, 1), BrailleCanvas(20, 1)
    solid.line(solid.new_layer(), [0, 39], [2, 2])
    dashed.line(dashed.new_layer(), [0, 39], [2, 2], LineStyle.DASHED)
    assert " " not in solid.compose().rows[0]
    assert " " in dashed.compose().rows[0]


def test_frame_fills_the_size_and_shows_labels_and_spike() -> None:
    n = 200_000
    y = np.exp(-np.arange(n) / 5e4)
    y[123_456] = 50.0
    trace = Trace("train/loss", np.arange(n, dtype=float), y, ema_debiased(y, 0.9))
    for width, height in ((100, 25), (38, 8), (20, 5)):
        frame = render_frame([trace], width, height, title="loss")
        assert len(frame.rows) == height
        assert all(sum(len(t) for t, _ in row) == width for row in frame.rows)
    frame = render_frame([trace], 100, 25, title="loss")
    assert "train/loss" in frame.text and "loss" in frame.text.splitlines()[0]
    assert "50┤" in frame.text  # the spike sets the range
    assert "step" in frame.text.splitlines()[-1]


def test_log_scale_leaves_out_non_positive_values() -> None:
    trace = Trace("x", np.arange(4.0), np.array([-1.0, 0.0, 1.0, 100.0]))
    frame = render_frame([trace], 40, 10, log_y=True)
    assert "100┤" in frame.text
    only_bad = Trace("x", np.arange(2.0), np.array([-1.0, 0.0]))
    assert (
        "nothing positive"
        in render_frame([only_bad], 40, 10, log_y=True, empty_message="nothing positive").text
    )


def test_a_constant_up_to_rounding_is_drawn_flat() -> None:
    # float32 0.01 smoothed in float64 wobbles in the last bits; it must not zigzag.
    y = np.full(50, np.float32(0.01), dtype=np.float64) * (1 + 1e-15 * np.sin(np.arange(50)))
    x = np.arange(50, dtype=np.float64)
    frame = render_frame([Trace("lr", x, y, None, LineStyle.SOLID)], 60, 12, title="lr")
    # one row of dots, on the row of its tick label: not a zigzag across two
    rows = [i for i, row in enumerate(frame.rows) if any(r == "line:0" for _, r in row)]
    assert len(rows) == 1
    assert len(set(frame.text.splitlines()[rows[0]].split("┤")[-1])) == 1
    assert frame.text.splitlines()[rows[0]].startswith("  0.01┤")
    ticks = [line.split("┤")[0].strip() for line in frame.text.splitlines() if "┤" in line]
    assert len(set(ticks)) == len(ticks)  # ticks are distinct, not 0.009999999776 four times


@pytest.mark.parametrize("height", [6, 7, 8, 9, 10, 12, 15])
@pytest.mark.parametrize("weight", [0.3, 0.6, 0.9])
def test_a_smoothed_constant_learning_rate_is_one_flat_row(height: int, weight: float) -> None:
    # The debiased EMA of 0.003 differs from 0.003 in the last bit here and there; the
    # flat range used to put the value exactly between two dot rows, so those bits
    # chose the row: a constant learning rate drawn as a wobble.
    y = np.full(300, 0.003)
    x = np.arange(300, dtype=np.float64)
    smoothed = ema_debiased(y, weight)
    frame = render_frame([Trace("lr", x, y, smoothed)], 60, height, title="lr")
    drawn = {i for i, row in enumerate(frame.rows) for _, role in row if role.startswith("line")}
    assert len(drawn) == 1
    row = frame.text.splitlines()[drawn.pop()].split("┤")[-1].split("│")[-1]
    assert len(set(row)) == 1  # one braille character across: a straight line


def test_empty_frame_shows_the_message() -> None:
    frame = render_frame([], 40, 6, title="val", empty_message="no val/loss yet")
    assert "no val/loss yet" in frame.text
    assert len(frame.rows) == 6


def test_a_log_x_axis_spaces_values_by_decade_and_labels_them() -> None:
    from dltui.tui.plotting.figure import Trace, render_frame

    x = np.array([1e-4, 1e-3, 1e-2, 1e-1])
    frame = render_frame(
        [Trace("acc", x, np.array([0.5, 0.6, 0.7, 0.8]), scatter=True)],
        60, 8, x_kind="value", log_x=True,
    )  # fmt: skip
    rows = frame.text.splitlines()
    labels = rows[-1]
    assert "1e-4" in labels and "0.001" in labels and "0.01" in labels
    # Equal factors, equal distances: the dots are evenly spread across the row.
    columns = sorted(
        {i for row in rows[:-1] for i, ch in enumerate(row) if "\u2800" < ch <= "\u28ff"}
    )
    gaps = [b - a for a, b in itertools.pairwise(columns)]
    assert max(gaps) - min(gaps) <= 1
    # Within one decade the ticks step 1-2-5; a value <= 0 is left out, not drawn.
    narrow = render_frame(
        [Trace("acc", np.array([0.004, 0.09, -1.0]), np.array([0.5, 0.7, 0.9]), scatter=True)],
        60, 6, x_kind="value", log_x=True,
    )  # fmt: skip
    assert "0.005" in narrow.text.splitlines()[-1] and "0.05" in narrow.text.splitlines()[-1]


def test_named_x_ticks_label_choices_that_are_not_numbers() -> None:
    from dltui.tui.plotting.figure import Trace, render_frame

    frame = render_frame(
        [Trace("acc", np.array([0.0, 1.0, 1.0]), np.array([0.5, 0.7, 0.9]), scatter=True)],
        50, 6, x_kind="value", x_ticks=[(0.0, "tanh"), (1.0, "relu")],
    )  # fmt: skip
    last = frame.text.splitlines()[-1]
    assert "tanh" in last and "relu" in last and "0.5" not in last
