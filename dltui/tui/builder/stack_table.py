"""The layer stack as a table: index, type, options, output shape and parameters.

Rows come from the document at once (type and options as typed); shapes and
parameter counts fill in when the shape worker reports. The first layer that
does not fit is drawn in the theme's error colour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from dltui.builder.document import LayerLoc
from dltui.safe_text import printable
from dltui.tui.commands import STACK

if TYPE_CHECKING:
    from dltui.builder.document import ExperimentDocument
    from dltui.builder.shapes import StackShapes


@dataclass(frozen=True)
class StackRow:
    """One layer's line: where it is and what to show."""

    loc: LayerLoc
    path: str
    type: str
    options: str
    output: str = ""
    params: str = ""
    problem: bool = False


def _format_shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def format_shape(shape: tuple[int, ...] | None) -> str:
    """``(1, 8, 8)``, ``(10,)`` or empty when unknown."""
    return _format_shape(shape)


class StackTable(DataTable[Text]):
    """The layers of one stack, one row each, nested layers indented under their parent."""

    BINDINGS: ClassVar = STACK.bindings()

    COLUMNS = (
        ("#", "index"),
        ("layer", "type"),
        ("options", "options"),
        ("output", "output"),
        ("params", "params"),
    )

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._rows: list[StackRow] = []

    def on_mount(self) -> None:
        for label, key in self.COLUMNS:
            self.add_column(label, key=key)

    def action_first_layer(self) -> None:
        """Select the first layer."""
        self.move_cursor(row=0)

    def action_last_layer(self) -> None:
        """Select the last layer."""
        self.move_cursor(row=max(0, self.row_count - 1))

    @property
    def rows_shown(self) -> list[StackRow]:
        """The rows as last shown."""
        return list(self._rows)

    def selected_loc(self) -> LayerLoc | None:
        """Where the highlighted layer is, or None for an empty stack."""
        if not self._rows:
            return None
        return self._rows[max(0, min(self.cursor_row, len(self._rows) - 1))].loc

    def selected_row(self) -> StackRow | None:
        """The highlighted layer's row, or None for an empty stack."""
        if not self._rows:
            return None
        return self._rows[max(0, min(self.cursor_row, len(self._rows) - 1))]

    def select_loc(self, loc: LayerLoc | None) -> None:
        """Move the cursor to the layer at ``loc`` (or the nearest row)."""
        if not self._rows:
            return
        index = next((i for i, r in enumerate(self._rows) if r.loc == loc), None)
        if index is None:
            index = min(self.cursor_row, len(self._rows) - 1)
        self.move_cursor(row=index)

    def _error_style(self) -> str:
        """The theme's error colour as a Rich style (``ansi_red`` is Textual's, not Rich's)."""
        try:
            colour = Color.parse(self.app.theme_variables.get("error", "red")).rich_color
        except ColorParseError:
            return "bold"
        return f"bold {colour.name}"

    def show(self, rows: list[StackRow]) -> None:
        """Show ``rows``; cells are updated in place when the layout is unchanged.

        The first layer that does not fit is drawn in the theme's error colour.
        """
        error_style = self._error_style()
        heading = options_heading(rows)
        options = self.columns.get(ColumnKey("options"))
        widest = max((len(r.options) for r in rows), default=0)
        refill = options is not None and (
            options.label.plain != heading
            or widest < max((len(r.options) for r in self._rows), default=0)
        )
        if refill and options is not None:
            # A column never narrows as its cells change: re-fill it from nothing, or the
            # parameter counts at its right are pushed off a narrow pane.
            options.label = Text(heading)
            cells = [self._cells(row, error_style) for row in rows]
            for index, column in enumerate(self.columns.values()):
                column.content_width = max(
                    [column.label.cell_len, *(row[index].cell_len for row in cells)]
                )
        if not refill and [r.path for r in rows] == [r.path for r in self._rows]:
            for old, new in zip(self._rows, rows, strict=True):
                if old != new:
                    for (_, key), text in zip(
                        self.COLUMNS, self._cells(new, error_style), strict=True
                    ):
                        self.update_cell(new.path, key, text, update_width=True)
            self._rows = list(rows)
            return
        cursor = self.cursor_row
        self.clear()
        self._rows = list(rows)
        for row in rows:
            self.add_row(*self._cells(row, error_style), key=row.path)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))

    @staticmethod
    def cells(row: StackRow, error_style: str) -> list[Text]:
        """The row's cells, in the order of `COLUMNS`."""
        return StackTable._cells(row, error_style)

    @staticmethod
    def _cells(row: StackRow, error_style: str) -> list[Text]:
        depth = len(row.loc) - 1
        index = ".".join(str(i) for i in row.loc)
        name = ("  " * depth + ("└ " if depth else "")) + row.type
        style = error_style if row.problem else ""
        return [
            Text(index, style=style),
            Text(name, style=style),
            Text(row.options, style=style, overflow="ellipsis", no_wrap=True),
            Text(
                row.output if not row.problem else "✗ " + (row.output or "does not fit"),
                style=style,
            ),
            Text(row.params, style=style, justify="right"),
        ]


def options_text(raw: dict[str, Any]) -> str:
    """A layer's options as ``key=value, ...`` (its type, name and sub-layers left out)."""
    return ", ".join(
        f"{k}={printable(str(v), keep_newlines=False)}"
        for k, v in raw.items()
        if k not in ("type", "name", "layers")
    )


def options_text_cut(text: str, width: int) -> str:
    """``text`` cut with ``…`` when it is longer than ``width``."""
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def stack_rows(
    document: ExperimentDocument, stack: str, shapes: StackShapes | None
) -> list[StackRow]:
    """The rows of ``stack``: each layer as typed, with its shape and parameters when known.

    The layer the shapes' problem is in is marked (the deepest one holding its field).
    """
    layers = document.flat_layers(stack)
    paths = [document.layer_path(stack, loc) for loc, _ in layers]
    culprit = _culprit(paths, shapes.problem_path if shapes is not None else None)
    rows = []
    for (loc, raw), path in zip(layers, paths, strict=True):
        output = params = ""
        if shapes is not None and path in shapes.rows:
            shape_row = shapes.rows[path]
            output = format_shape(shape_row.out_shape)
            params = f"{shape_row.params:,}" if shape_row.params is not None else ""
        rows.append(
            StackRow(
                loc,
                path,
                printable(str(raw.get("type", "?")), keep_newlines=False),
                options_text(raw),
                output,
                params,
                path == culprit,
            )
        )
    return rows


def fit_options(rows: list[StackRow], pane: int) -> list[StackRow]:
    """Cut the options column only as far as a pane ``pane`` cells wide needs.

    The other columns are shown whole (shapes and parameter counts are never
    cut); the options get what is left, and a ``…`` only when that is too little.
    """
    if pane <= 0 or not rows:
        return rows
    cells = [StackTable.cells(row, "") for row in rows]
    others = sum(
        max(len(label), *(len(cell[i].plain) for cell in cells)) + 2  # padding: 1 each side
        for i, (label, _key) in enumerate(StackTable.COLUMNS)
        if i != 2
    )
    width = max(1, pane - others - 2 - 1)  # the options' own padding; the scrollbar
    return [replace(row, options=options_text_cut(row.options, width)) for row in rows]


def options_heading(rows: list[StackRow]) -> str:
    """The options column's heading, no wider than its widest cell: a heading wider than
    the cut options would push the parameter counts off a narrow pane."""
    widest = max((len(row.options) for row in rows), default=0)
    label = "options"
    if widest >= len(label):
        return label
    return options_text_cut(label, widest) if widest > 1 else ""


def _culprit(paths: list[str], problem_path: str | None) -> str | None:
    """The deepest layer path that ``problem_path`` is in (a layer or one of its fields)."""
    if problem_path is None:
        return None
    inside = [p for p in paths if problem_path == p or problem_path.startswith(p + ".")]
    return max(inside, key=len) if inside else None
