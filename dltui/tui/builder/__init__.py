"""The layer-stack builder screen: `BuilderScreen(experiments_dir, path=None, template=None)`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App

from dltui.tui.builder.screen import BuilderScreen
from dltui.tui.builder.template_picker import NewExperiment, TemplatePicker

__all__ = ["BuilderScreen", "open_builder"]


def open_builder(
    app: App[Any], experiments_dir: Path, path: Path | None, *, still_wanted: Callable[[], bool]
) -> None:
    """Open the builder on the experiment file ``path``, or, without one, on a new experiment
    from a template (`TemplatePicker` asks which, and its name, first).

    ``still_wanted()`` is asked before the builder is pushed: false when the app is on
    its way out (q, then e or n before it has gone).
    """

    def push(new: NewExperiment | None) -> None:
        if still_wanted() and (path is not None or new is not None):
            app.push_screen(BuilderScreen(experiments_dir, path=path, new=new))

    if path is not None:
        push(None)
    else:
        app.push_screen(TemplatePicker(experiments_dir), push)
