"""What a plot shows: named series of values against step, epoch or time, and their colours.

Plain data and numpy; `dltui.tui.widgets.LinePlot` draws them. A series keeps
its colour across plots and sessions (`assign_colors` hashes its key), and is
smoothed only when it is noisy per-step data (`should_smooth`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from dltui.run_format import is_learning_rate


class SeriesLike(Protocol):
    """One tag's points, as :class:`dltui.runs.Series` gives them."""

    @property
    def step(self) -> npt.NDArray[np.int64]: ...
    @property
    def epoch(self) -> npt.NDArray[np.float32]: ...
    @property
    def time(self) -> npt.NDArray[np.float64]: ...
    @property
    def value(self) -> npt.NDArray[np.float64]: ...
    def __len__(self) -> int: ...


XAxis = Literal["step", "epoch", "time"]
X_AXES: tuple[XAxis, ...] = ("step", "epoch", "time")

SERIES_COLORS = ("primary", "secondary", "accent", "warning", "success", "error")
"""Theme variables that series take their colours from, in order of preference."""


@dataclass(frozen=True, eq=False)
class PlotSeries:
    """One named series: values and the x it can be plotted against.

    ``key`` fixes the colour (default: the label), so the same run or tag keeps its
    colour across plots; ``color`` names a theme variable to force one.
    ``time_origin`` is the unix time the time axis counts from (the run's start;
    default: the earliest time among the plot's series).
    """

    label: str
    y: npt.NDArray[np.float64]
    step: npt.NDArray[Any]
    epoch: npt.NDArray[Any] | None = None
    time: npt.NDArray[np.float64] | None = None
    key: str = ""
    color: str | None = None
    time_origin: float | None = None
    smooth: bool = True
    """Whether smoothing applies: only to noisy per-step series, never to a learning rate
    or a once-per-epoch value (see `should_smooth`)."""

    def __post_init__(self) -> None:
        """Check that every given x array matches ``y`` in length."""
        for name in ("step", "epoch", "time"):
            values = getattr(self, name)
            if values is not None and len(values) != len(self.y):
                raise ValueError(
                    f"series {self.label!r}: {name} has {len(values)} points, y has {len(self.y)}"
                )

    @classmethod
    def from_series(
        cls,
        label: str,
        series: SeriesLike,
        *,
        key: str = "",
        color: str | None = None,
        time_origin: float | None = None,
        tag: str | None = None,
    ) -> PlotSeries:
        """Wrap a :class:`dltui.runs.Series` (step, epoch, time, value arrays).

        ``tag`` (default: the label) decides with the data whether it is smoothed.
        """
        return cls(
            label=label,
            y=series.value,
            step=series.step,
            epoch=series.epoch,
            time=series.time,
            key=key,
            color=color,
            time_origin=time_origin,
            smooth=should_smooth(tag if tag is not None else label, series.epoch),
        )

    @property
    def color_key(self) -> str:
        """What the colour is derived from."""
        return self.key or self.label


def should_smooth(tag: str, epoch: npt.NDArray[Any] | None) -> bool:
    """Whether a series is noisy per-step data that smoothing helps.

    A learning rate is a setting, not a measurement: smoothing only bends its steps
    (a schedule's drop would show as a slope). A series recorded once per epoch (whole
    epochs: ``val/loss``, ``train/accuracy``) is already an average. Series without
    epochs (other tools' logs) are taken to be per step.
    """
    if is_learning_rate(tag):
        return False
    if epoch is None or not len(epoch):
        return True
    values = np.asarray(epoch, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return True
    # Whole epochs throughout: once per epoch. Checked on a bounded sample, as the
    # plots are fed ten times a second and a series may hold millions of points.
    sample = finite if finite.size <= 4096 else finite[:: finite.size // 4096 + 1]
    return bool(np.any(sample != np.floor(sample)))


def assign_colors(keys: Iterable[str], palette_size: int = len(SERIES_COLORS)) -> dict[str, int]:
    """A palette index per key: from a hash of the key, so it is stable across plots and
    sessions, moved to the next free index when two keys of one plot collide."""
    taken: set[int] = set()
    result: dict[str, int] = {}
    for key in sorted(set(keys)):
        index = zlib.crc32(key.encode()) % palette_size
        for _ in range(palette_size):
            if index not in taken:
                break
            index = (index + 1) % palette_size
        taken.add(index)
        result[key] = index
    return result
