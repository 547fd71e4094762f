"""Plotting without a terminal: decimation, smoothing, axis ticks, a braille canvas, layout.

Pure numpy and text; the widgets in :mod:`dltui.tui.widgets` add colour and Textual.
"""

from dltui.tui.plotting.axis import (
    format_bytes,
    format_duration,
    format_number,
    format_ticks,
    log_ticks,
    nice_ticks,
    time_ticks,
)
from dltui.tui.plotting.canvas import BrailleCanvas, LineStyle
from dltui.tui.plotting.decimate import minmax_decimate
from dltui.tui.plotting.figure import Frame, Trace, render_frame
from dltui.tui.plotting.growing import Followed, GrowingArray
from dltui.tui.plotting.smoothing import StreamingEma, ema_debiased

__all__ = [
    "BrailleCanvas",
    "Followed",
    "Frame",
    "GrowingArray",
    "LineStyle",
    "StreamingEma",
    "Trace",
    "ema_debiased",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_ticks",
    "log_ticks",
    "minmax_decimate",
    "nice_ticks",
    "render_frame",
    "time_ticks",
]
