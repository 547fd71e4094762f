"""Smoothing for the plots: it lives in `dltui.series.smoothing` (the shell's `dltui plot`
uses it too)."""

from dltui.series.smoothing import MAX_WEIGHT, StreamingEma, ema_debiased

__all__ = ["MAX_WEIGHT", "StreamingEma", "ema_debiased"]
