"""Keys that change how curves are drawn, shared by the run and compare screens."""

from __future__ import annotations

from dltui.tui.plotting.series import X_AXES, XAxis

SMOOTHING_STEPS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)
"""The smoothing weights `[` and `]` step through."""


class CurveControls:
    """Smoothing, log-scale and x-axis actions for a screen of curves.

    The screen defines the reactives ``smoothing``, ``smoothing_on``, ``log_y``
    and ``x_axis``; their watchers redraw the curves.
    """

    smoothing: float
    smoothing_on: bool
    log_y: bool
    x_axis: XAxis

    def _curves_into_view(self) -> None:
        """Called before a curve key acts: a screen whose curves may be out of view
        (another pane filling it) brings them into view, so the key is seen to work."""

    def _step_smoothing(self, direction: int) -> None:
        self._curves_into_view()
        steps = SMOOTHING_STEPS
        index = min(range(len(steps)), key=lambda i: abs(steps[i] - self.smoothing))
        self.smoothing = steps[max(0, min(len(steps) - 1, index + direction))]
        self.smoothing_on = self.smoothing > 0

    def action_smooth_less(self) -> None:
        """Less smoothing."""
        self._step_smoothing(-1)

    def action_smooth_more(self) -> None:
        """More smoothing."""
        self._step_smoothing(+1)

    def action_log_scale(self) -> None:
        """Toggle a logarithmic y axis."""
        self._curves_into_view()
        self.log_y = not self.log_y

    def action_x_axis(self) -> None:
        """Cycle the x axis."""
        self._curves_into_view()
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
