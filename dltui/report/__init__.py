"""Run results outside the dashboard: `dltui ls`, `dltui plot` and `dltui export`.

Tables, plotext charts and tidy exports of recorded runs, for shells, scripts,
CI logs and `watch`. Nothing here imports Textual or torch; the sub-commands'
argument parsing is in `dltui.report.commands`.
"""
