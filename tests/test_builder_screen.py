"""The builder screen driven by keys: build a CNN, see shape errors come and go, save, launch."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from textual.app import App
from textual.message import Message
from textual.pilot import Pilot

from dltui.builder import ExperimentDocument
from dltui.spec import Experiment, load_experiment
from dltui.tui.builder import BuilderScreen
from dltui.tui.builder.dialogs import ChoiceDialog, SaveAsDialog
from dltui.tui.builder.field_form import FieldForm
from dltui.tui.builder.kind_picker import KindPicker
from dltui.tui.builder.stack_table import StackTable
from dltui.tui.messages import LaunchRequest


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (no asyncio pytest plugin here)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


class BuilderApp(App[None]):
    """The builder screen on its own, as the dashboard would push it."""

    def __init__(self, experiments: Path, path: Path | None = None, template: str | None = None):
        super().__init__()
        self.builder = BuilderScreen(experiments, path=path, template=template)

    def on_mount(self) -> None:
        self.push_screen(self.builder)


async def settle(pilot: Pilot[Any], screen: BuilderScreen, timeout: float = 30.0) -> None:
    """Wait until the shapes and dltui check's verdict shown belong to the current document."""
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while screen.shapes_pending or screen.workers or screen.verdict_problems is None:
        assert time.monotonic() < deadline, "shapes or verdict never arrived"
        await pilot.pause(0.05)
    await pilot.pause()


def status(screen: BuilderScreen) -> str:
    return str(screen.query_one("#stack-status").render())


def layer_types(screen: BuilderScreen) -> list[str]:
    return [row.type for row in screen.query_one(StackTable).rows_shown]


async def add(pilot: Pilot[Any], key: str, kind: str) -> None:
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, KindPicker)
    await pilot.press(*kind, "enter")
    await pilot.pause()


async def edit(pilot: Pilot[Any], field_moves: int, text: str) -> None:
    """Open the selected layer's form, go down ``field_moves`` fields, replace the value."""
    await pilot.press("e")
    await pilot.pause()
    for _ in range(field_moves):
        await pilot.press("down")
    await pilot.press("ctrl+u", *text)  # ctrl+u clears the input before typing
    await pilot.pause()


@run_async
async def test_build_a_cnn_by_keys_save_reload_and_launch(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    posted: list[Message] = []
    app = BuilderApp(experiments, template="perceptron")
    async with app.run_test(size=(120, 40), message_hook=posted.append) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        assert layer_types(screen) == ["dense"]
        assert "input (2,) → output (2,)" in status(screen)

        # Switch the data to the digits: tab to the settings, open the source list.
        await pilot.press("tab", "tab")
        assert screen.focused is not None and screen.focused.id == "field-data--source"
        await pilot.press("enter", *["down"] * 9, "enter")
        await pilot.pause()
        assert screen.document.get_field("data.source") == "digits"
        await pilot.press("escape")
        await settle(pilot, screen)
        assert "input (1, 8, 8)" in status(screen)

        await add(pilot, "i", "conv2d")  # before the dense layer
        await add(pilot, "a", "relu")
        await add(pilot, "a", "maxpool2d")
        await add(pilot, "a", "flatten")
        assert layer_types(screen) == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]

        # A kernel larger than the image: conv2d is marked and the reason shown.
        await pilot.press("home")
        await edit(pilot, 1, "9")
        assert screen.document.layer("layers", (0,))["kernel_size"] == 9
        await settle(pilot, screen)
        assert status(screen).startswith("✗ model.layers[0]")
        rows = screen.query_one(StackTable).rows_shown
        assert [r.problem for r in rows] == [True, False, False, False, False]

        # Fixing it as one types makes the error go away.
        await pilot.press("backspace", "3")
        await settle(pilot, screen)
        assert "output (2,)" in status(screen) and not any(
            r.problem for r in screen.query_one(StackTable).rows_shown
        )

        # The head: 10 digits.
        await pilot.press("escape", "end")
        await edit(pilot, 0, "10")
        await pilot.press("escape")
        await settle(pilot, screen)
        assert "input (1, 8, 8) → output (10,)" in status(screen)

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsDialog)
        await pilot.press("ctrl+u", *"my-cnn", "enter")
        await pilot.pause()
        saved = experiments / "my-cnn.toml"
        assert saved.exists() and screen.document.path == saved and not screen.document.dirty

        built = screen.document.validate()
        assert isinstance(built, Experiment)
        reloaded = load_experiment(saved)
        assert reloaded.model_dump() == built.model_dump()
        assert [layer["type"] for layer in reloaded.model_dump()["model"]["layers"]] == [
            "conv2d",
            "relu",
            "maxpool2d",
            "flatten",
            "dense",
        ]

        await pilot.press("r")
        await pilot.pause()
        # The hook sees a message at each node it bubbles through: count it once.
        launches = {id(m): m for m in posted if isinstance(m, LaunchRequest)}
        assert [m.experiment_path for m in launches.values()] == [saved]


@run_async
async def test_undo_and_redo_by_keys(tmp_path: Path) -> None:
    app = BuilderApp(tmp_path, template="mlp")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        before = screen.document.text()
        await add(pilot, "a", "dropout")
        assert layer_types(screen)[1] == "dropout"
        await pilot.press("d")  # delete it again: the relu after it is selected
        await pilot.press("K")  # move the relu above the first dense
        assert layer_types(screen)[:2] == ["relu", "dense"]
        await pilot.press("u")
        assert layer_types(screen)[:2] == ["dense", "relu"]
        await pilot.press("u")
        assert layer_types(screen)[1] == "dropout"
        await pilot.press("u")
        assert screen.document.text() == before
        await pilot.press("U", "ctrl+y")
        assert layer_types(screen)[1] == "relu"
        await pilot.press("ctrl+z")
        assert layer_types(screen)[1] == "dropout"

        # Typing into a field is one undo step, and the form follows the undo.
        await pilot.press("home")
        await edit(pilot, 0, "128")
        assert screen.document.layer("layers", (0,))["out_features"] == 128
        await pilot.press("escape", "u")
        await pilot.pause()
        assert screen.document.layer("layers", (0,))["out_features"] == 32
        form = screen.query_one("#layer-form", FieldForm)
        assert form.field_widget("layer:out_features").value == "32"


@run_async
async def test_invalid_typing_shows_the_reason_and_changes_nothing(tmp_path: Path) -> None:
    app = BuilderApp(tmp_path, template="mlp")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        await edit(pilot, 0, "0")
        form = screen.query_one("#layer-form", FieldForm)
        assert form.error_text("layer:out_features") == "must be ≥ 1"
        assert screen.document.layer("layers", (0,))["out_features"] == 32
        assert not screen.document.dirty


@run_async
async def test_outside_edit_reloads_when_clean_and_asks_when_dirty(tmp_path: Path) -> None:
    path = tmp_path / "mlp.toml"
    path.write_text(ExperimentDocument.from_template("mlp").text())
    app = BuilderApp(tmp_path, path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        # Clean: an outside edit is reloaded silently.
        path.write_text(path.read_text().replace("epochs = 60", "epochs = 61"))
        await screen._check_disk()
        await pilot.pause()
        assert screen.document.get_field("training.epochs") == 61

        # Dirty: the builder asks, and keeping ours never touches the file.
        await pilot.press("y")  # duplicate a layer: unsaved edit
        assert screen.document.dirty
        path.write_text(path.read_text().replace("epochs = 61", "epochs = 62"))
        await screen._check_disk()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.click("#keep")
        await pilot.pause()
        assert "epochs = 62" in path.read_text()

        # Saving now is a conflict: overwrite writes ours.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.click("#overwrite")
        await pilot.pause()
        on_disk = ExperimentDocument.load(path)
        assert len(on_disk.layers()) == 6 and on_disk.get_field("training.epochs") == 61

        # Another outside edit while dirty, reloaded on request: ours stays undoable.
        await pilot.press("y")
        path.write_text(path.read_text().replace("epochs = 61", "epochs = 70"))
        await screen._check_disk()
        await pilot.pause()
        await pilot.click("#reload")
        await pilot.pause()
        assert screen.document.get_field("training.epochs") == 70
        assert len(screen.document.layers()) == 6
        await pilot.press("u")
        assert len(screen.document.layers()) == 7


@run_async
async def test_gan_switches_stacks_and_back_asks_about_unsaved(tmp_path: Path) -> None:
    app = BuilderApp(tmp_path, template="gan")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        assert "input (8,) → output (2,)" in status(screen)
        await pilot.press("g")
        await settle(pilot, screen)
        assert screen.stack == "discriminator"
        assert "input (2,) → output (1,)" in status(screen)
        await pilot.press("y", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.screen is screen


@run_async
async def test_the_sweep_table_is_edited_in_the_settings(tmp_path: Path) -> None:
    import shutil

    experiments = tmp_path / "experiments"
    experiments.mkdir()
    path = experiments / "sweep-spirals.toml"
    shutil.copy(Path(__file__).parent.parent / "experiments" / "sweep-spirals.toml", path)
    app = BuilderApp(experiments, path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        form = screen.query_one("#settings-form", FieldForm)
        shown = " ".join(str(label.render()) for label in form.query(".form-description"))
        assert "Varies training.optimizer.lr, model.layers[0].out_features" in shown
        # The method by its list (tpe -> random, one up), the trials typed.
        screen.query_one("#field-sweep--method").focus()
        await pilot.press("enter", "up", "enter")
        await pilot.pause()
        assert screen.document.get_field("sweep.method") == "random"
        screen.query_one("#field-sweep--trials").focus()
        await pilot.press("ctrl+u", *"30")
        screen.query_one("#field-sweep--pruner--kind").focus()
        await pilot.press("enter", "down", "enter")  # median -> halving
        await pilot.pause()
        await settle(pilot, screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = load_experiment(path)
    assert saved.sweep is not None
    assert (saved.sweep.method, saved.sweep.trials, saved.sweep.pruner.kind) == (
        "random",
        30,
        "halving",
    )
    assert list(saved.sweep.params) == [
        "training.optimizer.lr",
        "model.layers[0].out_features",
        "model.layers[3].out_features",
        "model.layers[2].p",
    ]
    assert saved.sweep.pruner.warmup_epochs == 8  # the rest of the inline table kept


def _screen_lines(app: App[Any]) -> list[str]:
    return [
        "".join(segment.text for segment in line).replace("\u00a0", " ")
        for line in app.screen._compositor.render_update(full=True).strips  # type: ignore[attr-defined]
    ]


@run_async
async def test_the_layer_picker_reads_as_two_columns_and_names_its_place(tmp_path: Path) -> None:
    # A kind's description wrapped back under the kind names ("dense   Fully connected
    # layer on the last" / "dimension (torch.nn.Linear)."), and the title said "Add layer
    # after" without saying after which.
    app = BuilderApp(tmp_path / "experiments", template="mlp")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, KindPicker)
        lines = _screen_lines(app)
        assert any("Add a layer after 0 · dense" in line for line in lines), lines
        first = next(i for i, line in enumerate(lines) if "dense " in line and "Fully" in line)
        column = lines[first].index("Fully")
        follow = lines[first + 1]
        assert follow[column - 2 : column] == "  " and "dimension" in follow[column:], follow
        await pilot.press("escape", "j", "i")
        await pilot.pause()
        assert any("Insert a layer before 1 · relu" in line for line in _screen_lines(app))


@run_async
async def test_at_80x24_the_parameter_counts_are_whole(tmp_path: Path) -> None:
    # At 80 columns the options column kept its heading's width after the shapes came,
    # and pushed the parameter counts off the pane: "3" for 3,776, "66" for 66,944.
    app = BuilderApp(tmp_path / "experiments", template="transformer")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.builder
        await settle(pilot, screen)
        await pilot.pause(0.2)
        counts = [row.params for row in screen.query_one(StackTable).rows_shown if row.params]
        assert counts and any("," in count for count in counts)
        table = _region_lines(app, screen.query_one(StackTable))
        for count in counts:
            assert any(line.rstrip().endswith(count) for line in table), (count, table)


def _region_lines(app: App[Any], widget: Any) -> list[str]:
    region = widget.content_region
    return [line[region.x : region.right] for line in _screen_lines(app)[region.y : region.bottom]]
