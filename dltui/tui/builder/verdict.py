"""The builder's two status lines: the stack's shapes, and `dltui check`'s verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from dltui.safe_text import printable
from dltui.tui.builder.stack_table import format_shape

if TYPE_CHECKING:
    from dltui.builder.shapes import StackShapes
    from dltui.spec import Problem


def problem_line(problem: Problem) -> str:
    """A problem as the verdict shows it: field, message and hint (the file is the one shown)."""
    text = f"{problem.path or '(file)'}: {problem.message}"
    if problem.line:
        text = f"line {problem.line}: {text}"
    return text + (f" ({problem.hint})" if problem.hint else "")


class ShapesLine(Static):
    """Under the stack: its input and output shapes and parameters, or the first misfit."""

    def show(self, shapes: StackShapes | None, *, pending: bool) -> None:
        """``shapes`` of the stack shown (None: being computed); ``pending``: a newer
        result is on its way."""
        if shapes is None:
            self.update("shapes: computing…")
            self.set_class(False, "-error")
            return
        stale = "  (updating…)" if pending else ""
        if shapes.problem is not None:
            where = f"{shapes.problem_path}: " if shapes.problem_path else ""
            self.update(Content(printable(f"✗ {where}{shapes.problem}{stale}")))
            self.set_class(True, "-error")
            return
        self.set_class(False, "-error")
        self.update(
            f"input {format_shape(shapes.input_shape)} → output "
            f"{format_shape(shapes.output_shape)} · {shapes.total_params or 0:,} params "
            f"({shapes.trainable_params or 0:,} trainable){stale}"
        )


class VerdictLine(Static):
    """Below the panes: what `dltui check` says of the document (its problems, or that it is
    valid), or that it is still working it out."""

    def show(self, problems: list[str] | None) -> None:
        """``problems`` as `problem_line` writes them (None: not known yet; empty: valid)."""
        if problems is None:
            self.update(Content("… checking the model as dltui check does"))
            self.set_class(False, "-error")
        elif not problems:
            self.update(Content("✓ valid experiment (dltui check finds no problem)"))
            self.set_class(False, "-error")
        else:
            self.update(Content("\n".join(f"✗ {printable(line)}" for line in problems)))
            self.set_class(True, "-error")
