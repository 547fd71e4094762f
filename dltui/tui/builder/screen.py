"""The layer-stack builder: edit an experiment's layers and training settings by keyboard.

Left, the stack with live shapes (computed by a worker, debounced); right, the
selected layer's form and the training settings, both generated from the spec
models; below, the validation problems. Edits go to an `ExperimentDocument`,
so comments survive and every edit can be undone. The file on disk is polled
every second: outside edits reload silently when nothing is unsaved, and are
offered otherwise; a save never overwrites them without asking.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.color import Color, ColorParseError
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dltui.builder.document import (
    DocumentError,
    ExperimentDocument,
    LayerLoc,
    SaveConflict,
)
from dltui.builder.fields import fields_of
from dltui.builder.new_layer import UnknownLayerKind, kind_class
from dltui.builder.settings import EARLY_STOPPING_SWITCH, settings_sections
from dltui.builder.shapes import StackShapes
from dltui.builder.toml_edit import MISSING
from dltui.safe_text import printable
from dltui.spec import Experiment, Problem
from dltui.tui.builder.dialogs import ChoiceDialog, SaveAsDialog
from dltui.tui.builder.field_form import FieldForm, FormItem, heading
from dltui.tui.builder.kind_picker import KindPicker
from dltui.tui.builder.messages import FieldEdited, ModelChecked, ShapesComputed, ShapesFailed
from dltui.tui.builder.stack_table import StackRow, StackTable, format_shape
from dltui.tui.builder.template_picker import NewExperiment
from dltui.tui.commands import BUILDER
from dltui.tui.key_footer import KeyFooter
from dltui.tui.launcher import refusal

_STACK_ACTIONS = frozenset(
    {"add_layer", "insert_layer", "delete_layer", "duplicate_layer", "move_layer"}
)
"""Actions on the stack's layers, offered only while the stack (not a form) has the focus."""

SHAPE_DELAY = 0.15
"""Seconds of quiet typing before shapes are recomputed."""
DISK_POLL = 1.0
"""Seconds between checks of the file on disk for outside edits."""


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
        self._offered_reload = False
        self._announced_deleted = False
        self.disk_poll = DISK_POLL
        """Seconds between checks of the file on disk (tests shorten it)."""

    # ---- layout ----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="builder-title")
        with Horizontal(id="builder-body"):
            with Vertical(id="stack-pane"):
                yield StackTable(id="stack-table")
                yield Static("", id="stack-status")
            with Vertical(id="right-pane"):
                yield FieldForm(id="layer-form", empty_text="No layer: press a to add one.")
                yield FieldForm(id="settings-form")
        yield Static("", id="problems")
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
        self._show_title()
        self._schedule_shapes()

    def _show_title(self) -> None:
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
        layers = self.document.flat_layers(self.stack)
        paths = [self.document.layer_path(self.stack, loc) for loc, _ in layers]
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
        self.query_one(StackTable).show(self._fit_options(rows), error_style=self._error_style())
        self._show_stack_status()

    def _fit_options(self, rows: list[StackRow]) -> list[StackRow]:
        """Cut the options column only as far as the pane's width needs.

        The other columns are shown whole (shapes and parameter counts are never
        cut); the options get what is left, and a ``…`` only when that is too little.
        """
        pane = self.query_one("#stack-pane").content_size.width
        if pane <= 0 or not rows:
            return rows
        cells = [StackTable.cells(row, "") for row in rows]
        others = sum(
            max(len(label), *(len(cell[i].plain) for cell in cells)) + 2  # padding: 1 each side
            for i, (label, _key) in enumerate(StackTable.COLUMNS)
            if i != 2
        )
        width = max(4, pane - others - 2 - 1)  # the options' own padding; the scrollbar
        return [replace(row, options=options_text_cut(row.options, width)) for row in rows]

    def on_resize(self) -> None:
        """Give the options column the room the new width has."""
        if self.query("#stack-pane"):
            self._show_rows()

    def _error_style(self) -> str:
        """The theme's error colour as a Rich style (``ansi_red`` is Textual's, not Rich's)."""
        try:
            colour = Color.parse(self.app.theme_variables.get("error", "red")).rich_color
        except ColorParseError:
            return "bold"
        return f"bold {colour.name}"

    def _show_stack_status(self) -> None:
        status = self.query_one("#stack-status", Static)
        shapes = self.shapes if self.shapes and self.shapes.stack == self.stack else None
        pending = self.shapes_pending
        if shapes is None:
            status.update("shapes: computing…")
            status.set_class(False, "-error")
            return
        stale = "  (updating…)" if pending else ""
        if shapes.problem is not None:
            where = f"{shapes.problem_path}: " if shapes.problem_path else ""
            status.update(Content(printable(f"✗ {where}{shapes.problem}{stale}")))
            status.set_class(True, "-error")
            return
        status.set_class(False, "-error")
        status.update(
            f"input {format_shape(shapes.input_shape)} → output "
            f"{format_shape(shapes.output_shape)} · {shapes.total_params or 0:,} params "
            f"({shapes.trainable_params or 0:,} trainable){stale}"
        )

    def _validate(self) -> None:
        """The verdict: the schema's problems at once, then `dltui check`'s from the worker."""
        result = self.document.validate()
        if isinstance(result, Experiment):
            self.experiment, self.problems = result, []
        else:
            self.experiment, self.problems = None, result
        self._show_verdict()

    @property
    def verdict_problems(self) -> list[str] | None:
        """`dltui check`'s problems for the document as it is now; None while being worked out."""
        if self.problems:
            return [_problem_line(p) for p in self.problems]
        if self.verdict is None or self.verdict[0] != self.document.revision:
            return None
        return self.verdict[1]

    def _show_verdict(self) -> None:
        widget = self.query_one("#problems", Static)
        problems = self.verdict_problems
        if problems is None:
            widget.update(Content("… checking the model as dltui check does"))
            widget.set_class(False, "-error")
        elif not problems:
            widget.update(Content("✓ valid experiment (dltui check finds no problem)"))
            widget.set_class(False, "-error")
        else:
            widget.update(Content("\n".join(f"✗ {printable(line)}" for line in problems)))
            widget.set_class(True, "-error")

    async def _show_layer_form(self) -> None:
        form = self.query_one("#layer-form", FieldForm)
        loc = self.query_one(StackTable).selected_loc()
        if loc is None:
            form.border_title = "Layer"
            await form.show([])
            return
        raw = self.document.layer(self.stack, loc)
        kind = str(raw.get("type", ""))
        form.border_title = f"{self.document.layer_path(self.stack, loc)} · {kind}"
        try:
            cls = kind_class(kind)
        except UnknownLayerKind as exc:
            await form.show([], description=str(exc))
            return
        # The optional name goes last: the kind's own fields are what people edit.
        specs = sorted(fields_of(cls, exclude=("type",)), key=lambda spec: spec.name == "name")
        items = [FormItem(f"layer:{spec.name}", spec, raw.get(spec.name)) for spec in specs]
        doc = (cls.__doc__ or "").strip().splitlines()
        await form.show(items, description=doc[0] if doc else "")

    async def _show_settings(self) -> None:
        raw = self.document.raw()
        items: list[FormItem] = []
        for section in settings_sections(raw):
            items.append(heading(section.title))
            for setting in section.fields:
                if setting.path == EARLY_STOPPING_SWITCH:
                    value: Any = "early_stopping" in raw
                else:
                    value = self.document.get_field(setting.path)
                    value = None if value is MISSING else value
                items.append(FormItem(setting.path, setting.spec, value))
        await self.query_one("#settings-form", FieldForm).show(items)

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
            problems = [_problem_line(p) for p in result.problems]
        except Exception as exc:  # a bug in a layer kind must not take the builder down
            problems = [f"the model check failed: {type(exc).__name__}: {exc}"]
        self.post_message(ModelChecked(revision, problems))

    @on(ModelChecked)
    def _model_checked(self, message: ModelChecked) -> None:
        if message.revision != self.document.revision:
            return  # the document moved on; a newer check is on its way
        self.verdict = (message.revision, message.problems)
        self._show_verdict()

    @work(thread=True, exclusive=True, group="builder-shapes", exit_on_error=False)
    def _compute_shapes(
        self, raw: dict[str, Any], stack: str, revision: int, base_dir: Path
    ) -> None:
        # Imports torch on first use: only ever on this worker thread.
        from dltui.builder.shapes import compute_shapes

        try:
            result = compute_shapes(raw, stack, revision=revision, base_dir=base_dir)
        except Exception as exc:  # a bug in a layer kind must not take the builder down
            self.post_message(ShapesFailed(f"{type(exc).__name__}: {exc}", revision))
            return
        self.post_message(ShapesComputed(result))

    @on(ShapesComputed)
    def _shapes_computed(self, message: ShapesComputed) -> None:
        result = message.shapes
        if result.stack != self.stack or result.revision != self.document.revision:
            return  # the document moved on; a newer request is already scheduled
        self.shapes = result
        self._show_rows()

    @on(ShapesFailed)
    def _shapes_failed(self, message: ShapesFailed) -> None:
        if message.revision != self.document.revision:
            return
        self.shapes = StackShapes(
            self.stack,
            message.revision,
            None,
            {},
            None,
            f"shape check failed: {message.error}",
            None,
            None,
            None,
        )
        self._show_rows()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "builder-save" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"save failed: {error}", severity="error", timeout=8)

    # ---- edits -------------------------------------------------------------

    async def _after_edit(self, select: LayerLoc | None = None) -> None:
        self._offered_reload = False
        await self._refresh_all(select)

    def _selected(self) -> LayerLoc | None:
        return self.query_one(StackTable).selected_loc()

    @work(exclusive=True, group="builder-picker")
    async def _pick_and_insert(self, after: bool) -> None:
        kind = await self.app.push_screen_wait(
            KindPicker("Add layer after" if after else "Insert layer before")
        )
        if kind is None:
            return
        loc = self._selected()
        if loc is None:
            target: LayerLoc = (0,)
        else:
            target = (*loc[:-1], loc[-1] + (1 if after else 0))
        new = self.document.insert_layer(self.stack, target, kind)
        await self._after_edit(new)

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
        await self._after_edit(loc)

    async def action_duplicate_layer(self) -> None:
        """Insert a copy of the selected layer after it."""
        loc = self._selected()
        if loc is not None:
            await self._after_edit(self.document.duplicate_layer(self.stack, loc))

    async def action_move_layer(self, delta: int) -> None:
        """Move the selected layer up (-1) or down (1)."""
        loc = self._selected()
        if loc is not None:
            await self._after_edit(self.document.move_layer(self.stack, loc, delta))

    async def action_undo(self) -> None:
        """Undo the last edit."""
        if self.document.undo():
            await self._after_edit()
        else:
            self.notify("nothing to undo")

    async def action_redo(self) -> None:
        """Redo the last undone edit."""
        if self.document.redo():
            await self._after_edit()
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
        self._offered_reload = False
        self._show_rows()
        self._validate()
        self._show_title()
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

    # ---- save, launch, back ---------------------------------------------------

    def action_save(self) -> None:
        """Save the experiment (asking for a name when it is new)."""
        self._save_flow(launch=False)

    def action_launch(self) -> None:
        """Save, then ask the app to start a run of this experiment."""
        self._save_flow(launch=True)

    @work(exclusive=True, group="builder-save", exit_on_error=False)
    async def _save_flow(self, launch: bool) -> None:
        saved = await self._save()
        if saved is None or not launch:
            return
        # dltui check on the file as saved: what the trainer would refuse is refused here.
        import asyncio

        from dltui.checks import check_file

        revision = self.document.revision
        result = await asyncio.to_thread(check_file, saved)
        problems = [_problem_line(p) for p in result.problems]
        if revision == self.document.revision:
            self.verdict = (revision, problems)
            self._show_verdict()
        if problems:
            title, text = refusal(saved.name, problems)
            self.notify(text, title=title, severity="error", timeout=12, markup=False)
            return
        from dltui.tui.messages import LaunchRequest

        self.post_message(LaunchRequest(saved))
        self.notify(f"launching {printable(saved.name, keep_newlines=False)}", markup=False)

    async def _save(self) -> Path | None:
        """Save, resolving a missing name or a conflict with the person; the path or None."""
        target = self.document.path
        if target is None and self.new is not None:
            target = self.new.path(self.experiments_dir)  # the name given with n
        force = False
        while True:
            if target is None:
                suggestion = self.template or ""
                target = await self.app.push_screen_wait(
                    SaveAsDialog(self.experiments_dir, suggestion)
                )
                if target is None:
                    return None
            try:
                path = self.document.save(target, force=force)
            except SaveConflict as conflict:
                choice = await self._ask_conflict(conflict)
                if choice == "overwrite":
                    force = True
                    continue
                if choice == "reload":
                    self.document.reload()
                    await self._after_edit()
                    self.notify(f"reloaded {conflict.path.name}: your edits can be undone (u)")
                    return None
                if choice == "save_as":
                    target, force = None, False
                    continue
                return None
            except (DocumentError, OSError) as exc:
                self.notify(f"not saved: {exc}", severity="error", timeout=8)
                return None
            self._offered_reload = False
            self.new = None
            self._show_title()
            count = len(self.verdict_problems or [])
            suffix = f" — {count} problem(s) left" if count else ""
            self.notify(
                printable(f"saved {path}{suffix}"),
                severity="warning" if count else "information",
                markup=False,
            )
            return path

    async def _ask_conflict(self, conflict: SaveConflict) -> str | None:
        if conflict.exists:
            dialog = ChoiceDialog(
                "File exists",
                f"{conflict.path} already exists.",
                [("overwrite", "Overwrite"), ("save_as", "Other name"), ("cancel", "Cancel")],
            )
        else:
            dialog = ChoiceDialog(
                "Changed on disk",
                f"{conflict.path} was changed by someone else since it was loaded.\n"
                "Reload it (your edits stay undoable), overwrite it with yours, or save yours "
                "under another name?",
                [
                    ("reload", "Reload"),
                    ("overwrite", "Overwrite"),
                    ("save_as", "Save as"),
                    ("cancel", "Cancel"),
                ],
            )
        return await self.app.push_screen_wait(dialog)

    @work(exclusive=True, group="builder-back")
    async def action_back(self) -> None:
        """Leave the builder, asking first when there are unsaved edits."""
        if self.document.dirty:
            choice = await self.app.push_screen_wait(
                ChoiceDialog(
                    "Unsaved changes",
                    "Save the experiment before leaving?",
                    [("save", "Save"), ("discard", "Discard"), ("cancel", "Cancel")],
                )
            )
            if choice == "save":
                if await self._save() is None:
                    return
            elif choice != "discard":
                return
        self.dismiss(self.document.path)

    # ---- the file on disk ---------------------------------------------------

    async def _check_disk(self) -> None:
        state = self.document.disk_state()
        if state == "deleted" and not self._announced_deleted:
            self._announced_deleted = True
            self.notify(
                f"{self.document.path} was deleted; save (ctrl+s) to write it again",
                severity="warning",
                timeout=8,
            )
        if state != "changed":
            if state == "unchanged":
                self._announced_deleted = False
            return
        path = self.document.path
        assert path is not None
        if not self.document.dirty:
            try:
                self.document.reload()
            except DocumentError as exc:
                if not self._offered_reload:
                    self._offered_reload = True
                    self.notify(f"changed on disk and unreadable: {exc}", severity="warning")
                return
            await self._after_edit()
            self.notify(f"reloaded {path.name}: it changed on disk")
        elif not self._offered_reload:
            self._offered_reload = True
            self._offer_reload(path)

    @work(exclusive=True, group="builder-reload")
    async def _offer_reload(self, path: Path) -> None:
        choice = await self.app.push_screen_wait(
            ChoiceDialog(
                "Changed on disk",
                f"{path} changed on disk and you have unsaved edits.\n"
                "Reload it (your edits stay undoable with u), or keep editing yours "
                "(saving will ask before overwriting)?",
                [("reload", "Reload"), ("keep", "Keep mine")],
            )
        )
        if choice == "reload":
            try:
                self.document.reload()
            except DocumentError as exc:
                self.notify(str(exc), severity="error")
                return
            await self._after_edit()


def _problem_line(problem: Problem) -> str:
    """A problem as the verdict shows it: field, message and hint (the file is the one shown)."""
    text = f"{problem.path or '(file)'}: {problem.message}"
    if problem.line:
        text = f"line {problem.line}: {text}"
    return text + (f" ({problem.hint})" if problem.hint else "")


def _culprit(paths: list[str], problem_path: str | None) -> str | None:
    """The deepest layer path that ``problem_path`` is in (a layer or one of its fields)."""
    if problem_path is None:
        return None
    inside = [p for p in paths if problem_path == p or problem_path.startswith(p + ".")]
    return max(inside, key=len) if inside else None
