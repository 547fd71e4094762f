"""Failed workers are reported in a notification, wherever they were started.

Textual's `Worker.StateChanged` goes to the node that started the worker and
does not bubble, so a handler on the app never hears of a screen's worker: a
browser whose catalog worker raised showed nothing at all. The app and every
screen with workers take this mixin.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from dltui.safe_text import printable


class ReportsWorkerErrors:
    """Mixin for a Textual app or screen: notify the error of a worker that failed."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that ended in an error is reported, instead of vanishing."""
        error = event.worker.error
        if event.state != WorkerState.ERROR or error is None:
            return
        # An error's text may quote a file: shown as text, never as markup.
        self.notify(  # type: ignore[attr-defined]
            printable(str(error) or type(error).__name__),
            title="Error",
            severity="error",
            timeout=10,
            markup=False,
        )
