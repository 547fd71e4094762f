"""The dashboard's panes: each widget shows one thing and takes plain data or a run.

Every pane is a `RunPane` (`run_pane.py`): ``update_from(source, changes=None)``
reads a `dltui.runs.source.RunSource` and redraws only when the poll result
``changes`` concerns it; each also has a plain-data method (``set_series``,
``show``...) for tests and for views that gather data themselves.
"""

from dltui.tui.plotting.series import PlotSeries, assign_colors
from dltui.tui.widgets.confusion_pane import ConfusionPane
from dltui.tui.widgets.early_stopping_pane import EarlyStoppingPane
from dltui.tui.widgets.grad_norm_pane import GradNormPane, LayerNorms
from dltui.tui.widgets.line_plot import LinePlot
from dltui.tui.widgets.output_log import OutputLog
from dltui.tui.widgets.overview_pane import OverviewPane, RunSummary, summarize
from dltui.tui.widgets.sample_pane import SamplePane
from dltui.tui.widgets.system_pane import SystemPane

__all__ = [
    "ConfusionPane",
    "EarlyStoppingPane",
    "GradNormPane",
    "LayerNorms",
    "LinePlot",
    "OutputLog",
    "OverviewPane",
    "PlotSeries",
    "RunSummary",
    "SamplePane",
    "SystemPane",
    "assign_colors",
    "summarize",
]
