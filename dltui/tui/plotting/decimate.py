"""Min/max decimation for the plots: it lives in `dltui.series.decimate` (the shell's
`dltui plot` uses it too)."""

from dltui.series.decimate import FloatArray, minmax_decimate, minmax_decimate_many

__all__ = ["FloatArray", "minmax_decimate", "minmax_decimate_many"]
