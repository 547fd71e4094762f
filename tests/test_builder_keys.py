"""The builder as a new user meets it: templates from `n`, the browser's keys, true verdicts.

Driven by keys in the real dashboard (the folder watcher off), with real
templates and experiment files.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.widgets import OptionList, Static
from tui_runs import make_app, run_async, settle, spirals_toml, write_experiment

from dltui.builder import templates
from dltui.spec import load_experiment
from dltui.tui.builder import BuilderScreen
from dltui.tui.builder.field_form import FieldForm
from dltui.tui.builder.stack_table import StackTable
from dltui.tui.messages import LaunchRequest
from dltui.tui.screens.browser import BrowserScreen

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


def screen_text(app: Any) -> str:
    return "\n".join(
        "".join(segment.text for segment in line)
        for line in app.screen._compositor.render_update(full=True).strips
    )


def notes(app: Any) -> list[str]:
    return [f"{n.title}\n{n.message}" for n in app._notifications]


def verdict(screen: BuilderScreen) -> str:
    return str(screen.query_one("#problems", Static).render())


async def browser(pilot: Any, app: Any) -> BrowserScreen:
    await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
    assert isinstance(app.screen, BrowserScreen)
    return app.screen


async def builder_for(pilot: Any, app: Any, name: str) -> BuilderScreen:
    screen = await browser(pilot, app)
    table = screen.query_one("#table")
    table.move_cursor(row=table.get_row_index(f"exp:{name}"))  # type: ignore[attr-defined]
    await pilot.press("e")
    await settle(pilot, lambda: isinstance(app.screen, BuilderScreen))
    builder = app.screen
    assert isinstance(builder, BuilderScreen)
    return builder


async def judged(pilot: Any, builder: BuilderScreen) -> str:
    """The verdict once `dltui check` has answered for the document as it is."""
    await settle(pilot, lambda: builder.verdict_problems is not None, timeout=120)
    await pilot.pause()
    return verdict(builder)


def _workspace(root: Path) -> Path:
    (root / "experiments").mkdir(parents=True)
    (root / "runs").mkdir()
    return root


@run_async
async def test_n_offers_every_template_and_asks_for_a_name_and_description(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    write_experiment(root / "experiments", "spirals")
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await browser(pilot, app)
        await pilot.press("n")
        from dltui.tui.builder.template_picker import TemplatePicker

        await settle(pilot, lambda: isinstance(app.screen, TemplatePicker))
        picker = app.screen
        options = picker.query_one(OptionList)
        shown = [
            _rendered(options.get_option_at_index(i).prompt, 200)
            for i in range(options.option_count)
        ]
        assert len(shown) == len(templates())
        for (name, line), prompt in zip(templates(), shown, strict=True):
            assert name in prompt and line and line in prompt  # each says what it is
        # A description that wraps stays under itself, clear of the names' edge.
        narrow = _rendered(options.get_option_at_index(0).prompt, 30).splitlines()
        assert len(narrow) > 2 and all(row.startswith("  ") for row in narrow[1:]), narrow
        cnn = [name for name, _ in templates()].index("cnn")
        await pilot.press(*["j"] * cnn, "enter")  # j moves, enter goes on to the name
        await pilot.press("ctrl+u", *"my-cnn", "enter")
        await pilot.press("ctrl+u", *"digits, my way", "enter")
        await settle(pilot, lambda: isinstance(app.screen, BuilderScreen))
        builder = app.screen
        assert isinstance(builder, BuilderScreen)
        assert builder.document.layers()[0]["type"] == "conv2d"
        assert "my-cnn.toml" in str(builder.query_one("#builder-title", Static).render())
        await pilot.press("ctrl+s")  # saved under the name given, without asking again
        saved = root / "experiments" / "my-cnn.toml"
        await settle(pilot, saved.exists)
        assert load_experiment(saved).description == "digits, my way"


@run_async
async def test_the_builder_uses_the_browsers_keys(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / "experiments" / "cnn-digits.toml").write_text(
        (EXAMPLES / "cnn-digits.toml").read_text()
    )
    app = make_app(root)
    async with app.run_test(size=(160, 45)) as pilot:
        builder = await builder_for(pilot, app, "cnn-digits")
        table = builder.query_one(StackTable)
        form = builder.query_one("#layer-form", FieldForm)
        assert table.has_focus
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("k")
        for _ in range(3):  # enter edits the selected layer, every time
            await pilot.press("enter")
            await pilot.pause()
            assert builder.focused is not None and form in builder.focused.ancestors
            await pilot.press("escape")
            await pilot.pause()
            assert table.has_focus
        # ? opens dltui's help for the builder, ? again closes it.
        from dltui.tui.screens.help import HelpScreen

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body", Static).render())
        assert "tab" in text and "Move between the stack" in text and "j / k" not in text
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is builder
        footer = screen_text(app).splitlines()[-1]
        for key in ("j/k", "enter", "tab", "?", "esc"):
            assert f" {key} " in f" {footer} ", key


@run_async
async def test_the_verdict_is_dltui_checks_and_r_refuses_an_invalid_experiment(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    experiments = root / "experiments"
    write_experiment(
        experiments,
        "conv",
        spirals_toml().replace(
            '[[model.layers]]\ntype = "dense"\nout_features = 8',
            '[[model.layers]]\ntype = "conv2d"\nout_channels = 4\nkernel_size = 3',
        ),
    )
    gan = (EXAMPLES / "gan-ring.toml").read_text()
    last = gan.rindex("out_features = 1")
    write_experiment(experiments, "gan3", gan[:last] + "out_features = 3" + gan[last + 16 :])
    posted: list[Message] = []
    app = make_app(root)
    async with app.run_test(size=(120, 40), message_hook=posted.append) as pilot:
        for name, field in (("conv", "model.layers[0]"), ("gan3", "model.discriminator[4]")):
            builder = await builder_for(pilot, app, name)
            shown = await judged(pilot, builder)
            assert "valid experiment" not in shown
            assert field in shown
            await pilot.press("r")
            await settle(pilot, lambda name=name: any(f"{name}.toml is invalid" in n  # type: ignore[misc]
                                                      for n in notes(app)))  # fmt: skip
            assert not [m for m in posted if isinstance(m, LaunchRequest)]
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))


@run_async
async def test_a_valid_experiment_is_judged_valid_and_launches(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    write_experiment(root / "experiments", "spirals")
    posted: list[Message] = []
    app = make_app(root)
    async with app.run_test(size=(120, 40), message_hook=posted.append) as pilot:
        builder = await builder_for(pilot, app, "spirals")
        assert "✓ valid experiment" in await judged(pilot, builder)
        await pilot.press("r")
        await settle(pilot, lambda: any(isinstance(m, LaunchRequest) for m in posted))


@run_async
async def test_layer_options_are_whole_when_there_is_room(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / "experiments" / "cnn-digits.toml").write_text(
        (EXAMPLES / "cnn-digits.toml").read_text()
    )
    app = make_app(root)
    async with app.run_test(size=(200, 60)) as pilot:
        builder = await builder_for(pilot, app, "cnn-digits")
        await pilot.pause()
        options = [row.options for row in builder.query_one(StackTable).rows_shown]
        assert all("…" not in text for text in options), options
        assert any("kernel_size=3" in text for text in options)


def test_quitting_then_pressing_e_or_n_is_clean(tmp_path: Path) -> None:
    async def drive(app: Any, action: str) -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await browser(pilot, app)
            await app.run_action("quit")
            getattr(screen, action)()  # the key pressed before the app has gone
            await asyncio.sleep(0.3)

    for action in ("action_edit", "action_new"):
        root = _workspace(tmp_path / action)
        write_experiment(root / "experiments", "spirals")
        app = make_app(root)
        asyncio.run(drive(app, action))
        assert app.return_code == 0, action
        assert app._exception is None, action


@run_async
async def test_markup_in_a_file_or_in_typing_is_shown_as_text(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    text = spirals_toml().replace("out_features = 8", 'out_features = 8\nname = "[b]x[/b]"')
    text = text.replace("[early_stopping]", '[model]\nfreeze = ["[/]"]\n\n[early_stopping]')
    write_experiment(root / "experiments", "odd", text)
    app = make_app(root)
    async with app.run_test(size=(160, 45)) as pilot:
        builder = await builder_for(pilot, app, "odd")
        shown = await judged(pilot, builder)
        assert "'[/]'" in shown and "[b]x[/b]" in shown  # the freeze problem names both
        await pilot.press("enter")  # the first layer's form; its name field is last
        form = builder.query_one("#layer-form", FieldForm)
        form.field_widget("layer:name").focus()
        await pilot.press("ctrl+u", *"[/]")
        await settle(pilot, lambda: builder.document.layer("layers", (0,)).get("name") == "[/]")
        await judged(pilot, builder)
        assert app.is_running
        assert "valid experiment" in verdict(builder)  # now the freeze names that layer


def _rendered(prompt: object, width: int) -> str:
    """A Rich renderable as the plain text it shows at ``width`` cells."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(prompt)
    return console.export_text()
