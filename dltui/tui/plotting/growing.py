"""Growing arrays for the plots' caches: they live in `dltui.series.growing` (the
smoothing there extends one)."""

from dltui.series.growing import Followed, GrowingArray

__all__ = ["Followed", "GrowingArray"]
