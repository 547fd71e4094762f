"""Axis helpers: nice tick values, and numbers, sizes and durations in few characters."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
# Steps a reader counts time in: seconds, minutes, hours, days.
_TIME_STEPS = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800,
)  # fmt: skip


def nice_ticks(lo: float, hi: float, max_ticks: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k apart) inside ``[lo, hi]``, at most ``max_ticks``.

    A degenerate range yields the single value; non-finite bounds yield none.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or max_ticks < 1:
        return []
    if lo > hi:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    if max_ticks == 1:
        return [_round_to_step((lo + hi) / 2, hi - lo)]
    raw = (hi - lo) / (max_ticks - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for nice in _NICE_STEPS:
        step = nice * magnitude
        first = math.ceil(lo / step - 1e-9) * step
        count = math.floor((hi - first) / step + 1e-9) + 1
        if count <= max_ticks:
            return [_clean(first + i * step, step) for i in range(count)]
    return [lo, hi]  # unreachable for max_ticks >= 2; kept for safety with odd floats


def log_ticks(lo: float, hi: float, max_ticks: int = 5) -> list[float]:
    """Powers of ten inside ``[lo, hi]`` (both > 0), thinned to at most ``max_ticks``.

    When the range spans less than one decade, falls back to :func:`nice_ticks`.
    """
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)) or max_ticks < 1:
        return []
    if lo > hi:
        lo, hi = hi, lo
    first = math.ceil(math.log10(lo) - 1e-9)
    last = math.floor(math.log10(hi) + 1e-9)
    if last < first:
        return nice_ticks(lo, hi, max_ticks)
    exponents = list(range(first, last + 1))
    stride = math.ceil(len(exponents) / max_ticks)
    return [10.0**e for e in exponents[::stride]]


def time_ticks(lo: float, hi: float, max_ticks: int = 5) -> list[float]:
    """Tick values in seconds at steps a person counts in (5 s, 1 min, 15 min, 1 h …)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or max_ticks < 1:
        return []
    if lo > hi:
        lo, hi = hi, lo
    span = hi - lo
    if span == 0:
        return [lo]
    step = next(
        (s for s in _TIME_STEPS if span / s <= max_ticks - 1 or max_ticks == 1),
        None,
    )
    if step is None:
        # Longer than the table: whole weeks, as many as fit.
        step = 604800 * math.ceil(span / (604800 * max(1, max_ticks - 1)))
    first = math.ceil(lo / step) * step
    return [float(first + i * step) for i in range(int((hi - first) // step) + 1)]


def format_number(value: float, digits: int = 3) -> str:
    """A number in at most about 6 characters: ``0.0123``, ``12.5``, ``3.4k``, ``1.2M``, ``2e-05``.

    Large magnitudes take SI suffixes; very small ones use scientific notation.
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    for scale, suffix in _SI:
        if magnitude >= scale * 0.9995:
            return (
                _trim(f"{value / scale:.{max(0, digits - _int_digits(value / scale))}f}") + suffix
            )
    if magnitude < 1e-3:
        mantissa, exponent = f"{value:.{max(0, digits - 2)}e}".split("e")
        return f"{_trim(mantissa)}e{int(exponent)}"
    if magnitude < 1:
        return _trim(f"{value:.{digits - 1 - math.floor(math.log10(magnitude))}f}")
    return _trim(f"{value:.{max(0, digits - _int_digits(value))}f}")


def format_ticks(ticks: Sequence[float]) -> list[str]:
    """Labels for evenly spaced ``ticks`` with just enough decimals to tell them apart."""
    if not ticks:
        return []
    if len(ticks) == 1:
        return [format_number(ticks[0])]
    step = min(abs(b - a) for a, b in itertools.pairwise(ticks)) or abs(ticks[0]) or 1.0
    largest = max(abs(t) for t in ticks)
    if largest >= 1e4 or step < 1e-3:
        # SI or scientific: significant digits matter, not decimals. Start from the digits
        # the step needs and add more until every label is distinct and says its own value
        # (a narrow range far from zero, e.g. a constant 3e-4 padded by 10 %, needs more
        # than its magnitudes suggest, or three ticks all read "3e-4").
        digits = max(
            2, min(6, math.floor(math.log10(largest or 1)) - math.floor(math.log10(step)) + 1)
        )
        labels = [format_number(t, digits) for t in ticks]
        while digits < 10 and not _labels_exact(labels, ticks, step):
            digits += 1
            labels = [format_number(t, digits) for t in ticks]
        return labels
    # The fewest decimals that still write every tick exactly (0.25 needs 2, 0.5 needs 1).
    decimals = next(
        (d for d in range(10) if all(abs(round(t, d) - t) <= 1e-9 * step for t in ticks)), 10
    )
    return [_trim(f"{t:.{decimals}f}") if decimals else f"{t:.0f}" for t in ticks]


def parse_number(text: str) -> float:
    """The value a :func:`format_number` label stands for (``"3.4k"`` -> 3400.0)."""
    scale = dict((suffix, value) for value, suffix in _SI).get(text[-1:], None)
    return float(text[:-1]) * scale if scale is not None else float(text)


def _labels_exact(labels: Sequence[str], ticks: Sequence[float], step: float) -> bool:
    """Whether the labels are all different and each is within 1 % of a step of its tick."""
    if len(set(labels)) != len(labels):
        return False
    return all(
        abs(parse_number(label) - tick) <= 0.01 * step
        for label, tick in zip(labels, ticks, strict=True)
    )


def format_epoch(epoch: float) -> str:
    """An epoch count as a person reads it: ``40`` when whole, else to a tenth, rounded down.

    Rounded down because a run 0.96 of the way through its first epoch has not
    finished one: ``0.9``, never ``1.0`` (nor ``0.909091``).
    """
    if not math.isfinite(epoch):
        return "?"
    if epoch == int(epoch):
        return f"{int(epoch)}"
    tenths = math.floor(epoch * 10 + 1e-9) / 10
    return f"{tenths:.1f}"


def format_bytes(count: float) -> str:
    """Bytes in binary units: ``512 B``, ``1.5 KiB``, ``3.2 GiB``."""
    if not math.isfinite(count):
        return "?"
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    value = float(count)
    for unit in units:
        if abs(value) < 1024 or unit == units[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # unreachable: the loop returns at the last unit


def format_duration(seconds: float) -> str:
    """A duration in its two largest units: ``45s``, ``2m30s``, ``1h05m``, ``3d04h``.

    Under ten seconds keeps one decimal (``1.5s``); negative durations get a minus sign.
    """
    if not math.isfinite(seconds):
        return "?"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _int_digits(value: float) -> int:
    magnitude = abs(value)
    return 1 if magnitude < 1 else math.floor(math.log10(magnitude)) + 1


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _round_to_step(value: float, span: float) -> float:
    step = 10.0 ** math.floor(math.log10(span))
    return round(value / step) * step


def _clean(value: float, step: float) -> float:
    # Remove float noise like 0.30000000000000004 so labels and tests see 0.3.
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return round(value, decimals) + 0.0
