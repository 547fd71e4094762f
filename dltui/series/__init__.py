"""Numeric work on a recorded series, numpy only: what a chart of any length needs.

Min/max decimation to a chart's width (`decimate`: spikes survive), the
debiased exponential moving average TensorBoard's smoothing slider uses
(`smoothing`), and arrays that only grow, with how far a cache has followed one
(`growing`). No Textual, no torch: the dashboard's plots and `dltui plot` both
use them.
"""
