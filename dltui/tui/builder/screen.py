"""The layer-stack builder: edit an experiment's layers and training settings by keyboard.

Left, the stack with live shapes (computed by a worker, debounced); right, the
selected layer's form and the training settings, both generated from the spec
models; below, the validation problems. Edits go to an `ExperimentDocument`,
so comments survive and every edit can be undone. The file on disk is polled
every second: outside edits reload silently when nothing is unsaved, and are
offered otherwise; a save never overwrites them without asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dltui.builder.document import (
    ExperimentDocument,
    LayerLoc,
)
from dltui.builder.shapes import StackShapes
from dltui.safe_text import printable
from dltui.spec import Experiment, Problem
from dltui.tui.builder import file_flow
from dltui.tui.builder.field_form import FieldForm
from dltui.tui.builder.forms import layer_form, settings_form
from dltui.tui.builder.kind_picker import KindPicker
from dltui.tui.builder.messages import FieldEdited, ModelChecked, ShapesComputed
from dltui.tui.builder.stack_table import StackTable, fit_options, stack_rows
from dltui.tui.builder.template_picker import NewExperiment
from dltui.tui.builder.verdict import ShapesLine, VerdictLine, problem_line
from dltui.tui.commands import BUILDER
from dltui.tui.key_footer import KeyFooter

_STACK_ACTIONS = frozenset(
    {"add_layer", "insert_layer", "delete_layer", "duplicate_layer", "move_layer"}
)
"""Actions on the stack's layers, offered only while the stack (not a form) has the focus."""

SHAPE_DELAY = 0.15
"""Seconds of quiet typing before shapes are recomputed."""
DISK_POLL = 1.0
"""Seconds between checks of the file on disk for outside edits."""

_SAVING: dict[str, Any] = {"exclusive": True, "group": "builder-save", "exit_on_error": False}
"""How a save runs: one at a time; its failure is notified (`_worker_changed`)."""


class BuilderScreen(Screen[Path | None]):
    """Build or edit an experiment; dismisses with the saved file's path (or None).

    ``new`` starts a new experiment from a template, with the name and description
    the person gave (`TemplatePicker`); it is saved as ``experiments/NAME.toml``.
    """

    CSS_PATH = "builder.tcss"
    SCOPE = BUILDER
    BINDINGS: ClassVar[list[BindingType]] = BUILDER.bindings()

    def __init__(
        self,
        experiments_dir: Path,
        path: Path | None = None,
        template: str | None = None,
        *,
        new: NewExperiment | None = None,
    ) -> None:
        super().__init__()
        self.experiments_dir = Path(experiments_dir)
        self.new = new
        """The new experiment's name and description, until it is first saved."""
        if path is not None:
            self.document = ExperimentDocument.load(path)
        else:
            template = new.template if new is not None else template
            self.document = ExperimentDocument.from_template(template or "perceptron")
            if new is not None and new.description:
                self.document.set_field("description", new.description)
        self.template = template
        self.verdict: tuple[int, list[str]] | None = None
        """`dltui check`'s problems for a revision of the document (empty: valid)."""
        self.stack = self.document.stacks()[0]
        self.shapes: StackShapes | None = None
        self.problems: list[Problem] = []
        self.experiment: Experiment | None = None
        self._shape_timer: Timer | None = None
        self._shapes_requested = -1
        self.offered_reload = False
        self.announced_deleted = False
        self.disk_poll = DISK_POLL
        """Seconds between checks of the file on disk (tests shorten it)."""

    # ---- layout ----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="builder-title")
        with Horizontal(id="builder-body"):
            with Vertical(id="stack-pane"):
                yield StackTable(id="stack-table")
                yield ShapesLine("", id="stack-status")
            with Vertical(id="right-pane"):
                yield FieldForm(id="layer-form", empty_text="No layer: press a to add one.")
                yield FieldForm(id="settings-form")
        yield VerdictLine("", id="problems")
        yield KeyFooter()

    async def on_mount(self) -> None:
        if not self.query("#stack-pane"):
            return  # pushed while the app quits (q, then e at once): it is never shown
        self.query_one("#stack-pane").border_title = self._stack_title()
        self.query_one("#stack-pane").border_subtitle = "tab: fields →"
        self.query_one("#layer-form").border_title = "Layer"
        self.query_one("#settings-form").border_title = "Training"
        self.query_one("#settings-form").border_subtitle = "tab: back to the stack"
        self.query_one(StackTable).focus()
        await self._refresh_all()
        self.set_interval(self.disk_poll, self._check_disk, name="builder disk poll")

    def _stack_title(self) -> str:
        return "Layers" if self.stack == "layers" else f"Layers · {self.stack}"

    # ---- refresh -----------------------------------------------------------

    async def _refresh_all(self, select: LayerLoc | None = None) -> None:
        """Show the document: stack rows, forms, problems, title; shapes follow."""
        table = self.query_one(StackTable)
        if select is None:
            select = table.selected_loc()
        self._show_rows()
        table.select_loc(select)
        await self._show_layer_form()
        await self._show_settings()
        self._validate()
        self.show_title()
        self._schedule_shapes()

    def show_title(self) -> None:
        """The title line: the file (or what a new one will be called), and whether it is saved."""
        doc = self.document
        if doc.path is not None:
            where = printable(str(doc.path), keep_newlines=False)
        elif self.new is not None:
            target = self.new.path(self.experiments_dir)
            where = f"{target} (new, from template {self.new.template})"
        else:
            where = f"new experiment (template {self.template or 'perceptron'})"
        mark = "  ● modified" if doc.dirty else ""
        self.query_one("#builder-title", Static).update(Content(f"Builder · {where}{mark}"))

    def _show_rows(self) -> None:
        shapes = self.shapes if self.shapes and self.shapes.stack == self.stack else None
        rows = stack_rows(self.document, self.stack, shapes)
        width = self.query_one("#stack-pane").content_size.width
        self.query_one(StackTable).show(fit_options(rows, width))
        self._show_stack_status()

    def on_resize(self) -> None:
        """Give the options column the room the new width has."""
        if self.query("#stack-pane"):
            self._show_rows()

    def _show_stack_status(self) -> None:
        shapes = self.shapes if self.shapes and self.shapes.stack == self.stack else None
        self.query_one(ShapesLine).show(shapes, pending=self.shapes_pending)

    def _validate(self) -> None:
        """The verdict: the schema's problems at once, then `dltui check`'s from the worker."""
        result = self.document.validate()
        if isinstance(result, Experiment):
            self.experiment, self.problems = result, []
        else:
            self.experiment, self.problems = None, result
        self.show_verdict()

    @property
    def verdict_problems(self) -> list[str] | None:
        """`dltui check`'s problems for the document as it is now; None while being worked out."""
        if self.problems:
            return [problem_line(p) for p in self.problems]
        if self.verdict is None or self.verdict[0] != self.document.revision:
            return None
        return self.verdict[1]

    def show_verdict(self) -> None:
        """Show `verdict_problems` below the panes."""
        self.query_one(VerdictLine).show(self.verdict_problems)

    async def _show_layer_form(self) -> None:
        form = self.query_one("#layer-form", FieldForm)
        loc = self.query_one(StackTable).selected_loc()
        form.border_title, items, description = layer_form(self.document, self.stack, loc)
        await form.show(items, description=description)

    async def _show_settings(self) -> None:
        await self.query_one("#settings-form", FieldForm).show(settings_form(self.document))

    # ---- shapes ------------------------------------------------------------

    @property
    def shapes_pending(self) -> bool:
        """Whether the shapes shown are older than the document (a result is on its way)."""
        return (
            self.shapes is None
            or self.shapes.revision != self.document.revision
            or (self.shapes.stack != self.stack)
        )

    def _schedule_shapes(self) -> None:
        if self._shape_timer is not None:
            self._shape_timer.stop()
        self._shape_timer = self.set_timer(SHAPE_DELAY, self._request_shapes, name="builder shapes")

    def _request_shapes(self) -> None:
        revision = self.document.revision
        if (
            self.shapes is not None
            and self.shapes.revision == revision
            and (self.shapes.stack == self.stack)
        ):
            return
        self._shapes_requested = revision
        base = self.document.path.parent if self.document.path else self.experiments_dir.parent
        self._compute_shapes(self.document.raw(), self.stack, revision, base)
        if not self.problems:
            self._check_model(self.document.text(), self._check_path(), revision)

    def _check_path(self) -> Path:
        """Where the document is (or will be) saved: relative data paths resolve from there."""
        if self.document.path is not None:
            return self.document.path
        if self.new is not None:
            return self.new.path(self.experiments_dir)
        return self.experiments_dir / "new-experiment.toml"

    @work(thread=True, exclusive=True, group="builder-check", exit_on_error=False)
    def _check_model(self, text: str, path: Path, revision: int) -> None:
        # The verdict is dltui check's own (the model summary the trainer uses): torch, here.
        from dltui.checks import check_text

        try:
            result = check_text(text, path)
            problems = [problem_line(p) for p in result.problems]
        except Exception as exc:  # a bug in a layer kind must not take the builder down
            problems = [f"the model check failed: {type(exc).__name__}: {exc}"]
        self.post_message(ModelChecked(revision, problems))

    @on(ModelChecked)
    def _model_checked(self, message: ModelChecked) -> None:
        if message.revision != self.document.revision:
            return  # the document moved on; a newer check is on its way
        self.verdict = (message.revision, message.problems)
        self.show_verdict()

    @work(thread=True, exclusive=True, group="builder-shapes", exit_on_error=False)
    def _compute_shapes(
        self, raw: dict[str, Any], stack: str, revision: int, base_dir: Path
    ) -> None:
        # Imports torch on first use: only ever on this worker thread.
        from dltui.builder.shapes import compute_shapes

        try:
            result = compute_shapes(raw, stack, revision=revision, base_dir=base_dir)
        except Exception as exc:  # a bug in a layer kind must not take the builder down
            why = f"shape check failed: {type(exc).__name__}: {exc}"
            result = StackShapes(stack, revision, None, {}, None, why, None, None, None)
        self.post_message(ShapesComputed(result))

    @on(ShapesComputed)
    def _shapes_computed(self, message: ShapesComputed) -> None:
        result = message.shapes
        if result.stack != self.stack or result.revision != self.document.revision:
            return  # the document moved on; a newer request is already scheduled
        self.shapes = result
        self._show_rows()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "builder-save" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"save failed: {error}", severity="error", timeout=8)

    # ---- edits -------------------------------------------------------------

    async def after_edit(self, select: LayerLoc | None = None) -> None:
        """Show the document after an edit (selecting ``select``)."""
        self.offered_reload = False
        await self._refresh_all(select)

    def _selected(self) -> LayerLoc | None:
        return self.query_one(StackTable).selected_loc()

    @work(exclusive=True, group="builder-picker")
    async def _pick_and_insert(self, after: bool) -> None:
        row = self.query_one(StackTable).selected_row()
        if row is None:
            title = "Add a layer"
        else:
            place = ".".join(str(index) for index in row.loc)
            where = "Add a layer after" if after else "Insert a layer before"
            title = f"{where} {place} · {row.type}"
        kind = await self.app.push_screen_wait(KindPicker(title))
        if kind is None:
            return
        loc = self._selected()
        if loc is None:
            target: LayerLoc = (0,)
        else:
            target = (*loc[:-1], loc[-1] + (1 if after else 0))
        new = self.document.insert_layer(self.stack, target, kind)
        await self.after_edit(new)

    def action_add_layer(self) -> None:
        """Add a layer after the selected one (a kind picker opens)."""
        self._pick_and_insert(True)

    def action_insert_layer(self) -> None:
        """Insert a layer before the selected one."""
        self._pick_and_insert(False)

    async def action_delete_layer(self) -> None:
        """Delete the selected layer."""
        loc = self._selected()
        if loc is None:
            return
        self.document.delete_layer(self.stack, loc)
        await self.after_edit(loc)

    async def action_duplicate_layer(self) -> None:
        """Insert a copy of the selected layer after it."""
        loc = self._selected()
        if loc is not None:
            await self.after_edit(self.document.duplicate_layer(self.stack, loc))

    async def action_move_layer(self, delta: int) -> None:
        """Move the selected layer up (-1) or down (1)."""
        loc = self._selected()
        if loc is not None:
            await self.after_edit(self.document.move_layer(self.stack, loc, delta))

    async def action_undo(self) -> None:
        """Undo the last edit."""
        if self.document.undo():
            await self.after_edit()
        else:
            self.notify("nothing to undo")

    async def action_redo(self) -> None:
        """Redo the last undone edit."""
        if self.document.redo():
            await self.after_edit()
        else:
            self.notify("nothing to redo")

    def action_edit_layer(self) -> None:
        """Move the focus to the selected layer's form."""
        if not self.query_one("#layer-form", FieldForm).focus_first():
            self.notify("this layer has no fields to edit", timeout=3)

    @on(DataTable.RowSelected, "#stack-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # The stack table takes enter for itself (select the row): enter edits, every time.
        event.stop()
        self.action_edit_layer()

    def _focused_form(self) -> FieldForm | None:
        focused = self.focused
        for form in self.query(FieldForm):
            if focused is not None and (focused is form or form in focused.ancestors):
                return form
        return None

    def action_cursor_down(self) -> None:
        """j: the next layer in the stack, or the next field in a form."""
        form = self._focused_form()
        if form is not None:
            form.action_next_field()
        else:
            self.query_one(StackTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """k: the layer above, or the field above."""
        form = self._focused_form()
        if form is not None:
            form.action_previous_field()
        else:
            self.query_one(StackTable).action_cursor_up()

    async def action_switch_stack(self) -> None:
        """Show a GAN's other stack (generator / discriminator)."""
        stacks = self.document.stacks()
        if len(stacks) < 2:
            self.notify("this model has one stack")
            return
        self.stack = (
            stacks[(stacks.index(self.stack) + 1) % len(stacks)]
            if (self.stack in stacks)
            else stacks[0]
        )
        self.query_one("#stack-pane").border_title = self._stack_title()
        self.query_one(StackTable).move_cursor(row=0)
        await self._refresh_all((0,))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer the stack switch for GANs only; layer edits while the stack has the focus."""
        if action == "switch_stack":
            return len(self.document.stacks()) > 1
        if action in _STACK_ACTIONS and self._focused_form() is not None:
            return None  # a key typed in a form must not delete or add a layer
        return True

    @on(FieldEdited)
    async def _field_edited(self, message: FieldEdited) -> None:
        message.stop()
        if message.key.startswith("layer:"):
            loc = self._selected()
            if loc is None:
                return
            name = message.key.removeprefix("layer:")
            group = f"{self.document.layer_path(self.stack, loc)}.{name}"
            self.document.set_layer_field(self.stack, loc, name, message.value, group=group)
        else:
            self.document.set_field(message.key, message.value, group=message.key)
        self.offered_reload = False
        self._show_rows()
        self._validate()
        self.show_title()
        self._schedule_shapes()
        if message.form_id == "settings-form":
            await self._show_settings()  # a new source or switch changes which fields apply
        if message.key in ("data.source",) or message.key.startswith("model."):
            self.shapes = None

    @on(DataTable.RowHighlighted, "#stack-table")
    async def _row_highlighted(self) -> None:
        await self._show_layer_form()

    # ---- panes -------------------------------------------------------------

    def _panes(self) -> list[Any]:
        return [
            self.query_one(StackTable),
            self.query_one("#layer-form", FieldForm),
            self.query_one("#settings-form", FieldForm),
        ]

    def _move_pane(self, step: int) -> None:
        panes = self._panes()
        focused = self.focused
        current = 0
        for index, pane in enumerate(panes):
            if focused is pane or (focused is not None and pane in focused.ancestors):
                current = index
        for offset in range(1, len(panes) + 1):
            pane = panes[(current + step * offset) % len(panes)]
            if isinstance(pane, FieldForm):
                if pane.focus_first():
                    return
            else:
                pane.focus()
                return

    def action_next_pane(self) -> None:
        """Focus the next pane: stack → layer form → training settings."""
        self._move_pane(1)

    def action_previous_pane(self) -> None:
        """Focus the previous pane."""
        self._move_pane(-1)

    def action_focus_stack(self) -> None:
        """Leave a form for the layer stack."""
        self.query_one(StackTable).focus()

    def action_help(self) -> None:
        """Show dltui's help for the builder (? or escape closes it)."""
        from dltui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    # ---- save, launch, back, the file on disk -----------------------------------

    def action_save(self) -> None:
        """Save the experiment (asking for a name when it is new)."""
        self.run_worker(file_flow.save_flow(self, launch=False), **_SAVING)

    def action_launch(self) -> None:
        """Save, then ask the app to start a run of this experiment."""
        self.run_worker(file_flow.save_flow(self, launch=True), **_SAVING)

    def action_back(self) -> None:
        """Leave the builder, asking first when there are unsaved edits."""
        self.run_worker(file_flow.leave(self), exclusive=True, group="builder-back")

    async def _check_disk(self) -> None:
        """Reload outside edits, or offer to (see `file_flow.check_disk`)."""
        await file_flow.check_disk(self)
