"""The browser as a new user meets it: true verdicts, text that fits, live ages, safe text.

Each test drives the real dashboard with the Pilot (the folder watcher off, a
frozen or hand-moved clock) on small experiment files and recorded runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from tui_runs import (
    FROZEN_NOW,
    make_app,
    make_run,
    run_async,
    settle,
    spirals_toml,
    write_experiment,
)

from dltui.tui.messages import LaunchRequest, RunLaunched
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.run_list import format_best

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"

CONV_ON_VECTORS = spirals_toml().replace(
    '[[model.layers]]\ntype = "dense"\nout_features = 8',
    '[[model.layers]]\ntype = "conv2d"\nout_channels = 4\nkernel_size = 3',
)


def screen_text(app: Any) -> str:
    """Everything on screen, as plain text."""
    return "\n".join(
        "".join(segment.text for segment in line)
        for line in app.screen._compositor.render_update(full=True).strips
    )


def region_text(app: Any, widget: Any) -> str:
    """What ``widget`` shows on screen (its region, without borders), line by line."""
    region = widget.content_region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


def details(screen: BrowserScreen) -> str:
    body = str(screen.query_one("#details-body", Static).render())
    return body + "\n" + screen_text(screen.app)


def rows(screen: BrowserScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def notes(app: Any) -> list[str]:
    return [f"{n.title}\n{n.message}" for n in app._notifications]


async def browser(pilot: Any, app: Any) -> BrowserScreen:
    await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


async def checked(pilot: Any, screen: BrowserScreen) -> None:
    """Wait until every valid experiment has been through `dltui check`."""

    def done() -> bool:
        catalog = screen.catalog
        return catalog is not None and all(
            (e.path, e.stamp) in screen.checks.reports
            for e in catalog.experiments.values()
            if e.valid
        )

    await settle(pilot, done, timeout=120)
    await pilot.pause()


def select(screen: BrowserScreen, key: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(key))


@run_async
async def test_token_models_show_their_layer_tables_not_a_false_error(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    for name in ("lstm-chars", "transformer-chars"):
        shutil.copy(EXAMPLES / f"{name}.toml", experiments)
    (tmp_path / "runs").mkdir()
    app = make_app(tmp_path, layer_tables=True)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await browser(pilot, app)
        await checked(pilot, screen)
        for name in ("lstm-chars", "transformer-chars"):
            select(screen, f"exp:{name}")
            await pilot.pause()
            text = details(screen)
            assert "embedding needs integer" not in text
            assert "problem" not in text.lower()
            assert "Parameters" in text and "embedding" in text
            assert "(64,)" in text  # the input: 64 token ids per sample
        assert all("invalid" not in row[1] for row in rows(screen))


@run_async
async def test_the_mark_and_r_follow_dltui_check(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "conv", CONV_ON_VECTORS)
    write_experiment(experiments, "good")
    gan = (EXAMPLES / "gan-ring.toml").read_text()
    last = gan.rindex("out_features = 1")
    write_experiment(experiments, "gan3", gan[:last] + "out_features = 3" + gan[last + 16 :])
    (tmp_path / "runs").mkdir()
    posted: list[Message] = []
    app = make_app(tmp_path, layer_tables=True)
    async with app.run_test(size=(120, 40), message_hook=posted.append) as pilot:
        screen = await browser(pilot, app)
        await checked(pilot, screen)
        status = {row[0].strip("▾ "): row[1] for row in rows(screen) if row[0].startswith("▾")}
        assert status == {"conv": "invalid", "gan3": "invalid", "good": "0 runs"}
        for name, field in (("conv", "model.layers[0]"), ("gan3", "model.discriminator[4]")):
            select(screen, f"exp:{name}")
            await pilot.pause()
            assert field in details(screen)
            await pilot.press("r")
            await pilot.pause()
            assert not [m for m in posted if isinstance(m, LaunchRequest)]
            assert any(f"{name}.toml is invalid" in n and field in n for n in notes(app))
        select(screen, "exp:good")
        await pilot.press("r")
        await pilot.pause()
        launches = {id(m): m for m in posted if isinstance(m, LaunchRequest)}  # bubbles: seen twice
        assert [m.experiment_path.name for m in launches.values()] == ["good.toml"]


@run_async
async def test_the_details_take_the_room_the_list_leaves_and_wrap_errors(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "spirals")
    long_name = "x" * 30
    write_experiment(
        experiments,
        "broken",
        f'description = "a"\n[data]\nsource = "spirals"\nbatch_size = 8\n{long_name} = @\n',
    )
    shutil.copy(EXAMPLES / "gan-ring.toml", experiments)
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path, layer_tables=True)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await browser(pilot, app)
        await checked(pilot, screen)
        table = screen.query_one(DataTable)
        pane = screen.query_one("#details")
        # The list is as wide as its columns (plus border and scrollbar), no wider.
        assert table.outer_size.width <= table.virtual_size.width + 4
        assert pane.outer_size.width >= 200 - table.outer_size.width - 3
        select(screen, "exp:broken")
        await pilot.pause()
        problem = next(p for p in screen.catalog.entry_named("broken").problems)  # type: ignore[union-attr]
        assert "not valid TOML" in problem
        shown = " ".join(region_text(app, pane).split())
        assert " ".join(problem.split()) in shown  # the whole message, wrapped, not cut
        assert pane.max_scroll_x == 0
        # A run's best is whole, with its metric; the GAN's tables fit at 120 columns too.
        run = screen.catalog.runs[0]  # type: ignore[union-attr]
        assert format_best(run.best, run.monitor) in screen_text(app)
        await pilot.resize_terminal(120, 40)
        select(screen, "exp:gan-ring")
        await pilot.pause()
        text = region_text(app, pane)
        for number in ("576", "4,160", "130", "4,866"):  # the generator, at the top
            assert number in text, number
        pane.scroll_end(animate=False)
        await pilot.pause()
        text = region_text(app, pane)
        for number in ("192", "4,160", "65", "4,417"):  # the discriminator, below
            assert number in text, number
        assert pane.max_scroll_x == 0


@run_async
async def test_the_list_is_drawn_at_its_columns_widths_even_when_painted_early(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Rows painted before the table measured them must not keep the header's widths.

    Textual's DataTable measures new rows on its next idle and caches each row's
    rendering without the columns' widths in the key: a paint in between (the screen's
    timer, a busy machine) left rows drawn at the header's widths ("20260101-000 finish").
    Painting after every added row makes that paint certain.
    """
    from textual.geometry import Region

    original = DataTable.add_row

    def add_row_then_paint(table: DataTable[Any], *cells: Any, **options: Any) -> Any:
        key = original(table, *cells, **options)
        width, height = table.size
        if width and height:
            table.refresh()  # every line dirty: all of them are drawn again, now
            table.render_lines(Region(0, 0, width, height))
        return key

    monkeypatch.setattr(DataTable, "add_row", add_row_then_paint)
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "spirals")
    runs = tmp_path / "runs"
    make_run(runs, "spirals", "20260101-000000-aaaa", created=FROZEN_NOW - 7200)
    make_run(runs, "spirals", "20260101-010000-bbbb", created=FROZEN_NOW - 600, state="stopped")
    for size in ((200, 60), (120, 40), (80, 24)):
        app = make_app(tmp_path)
        async with app.run_test(size=size) as pilot:
            screen = await browser(pilot, app)
            await pilot.pause(0.2)
            table = screen.query_one(DataTable)
            shown = region_text(app, table)
            for run_id in ("20260101-000000-aaaa", "20260101-010000-bbbb"):
                assert run_id in shown, (size, shown)
            assert "finished" in shown and "stopped" in shown, (size, shown)
            best = rows(screen)[1][3]
            assert best.endswith(" val/loss") and best in shown, (size, shown)


@run_async
async def test_best_names_its_metric_and_ages_move_on(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "spirals")
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", created=FROZEN_NOW - 30)
    now = [FROZEN_NOW]
    app = make_app(tmp_path, clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await browser(pilot, app)
        run_row = rows(screen)[1]
        assert run_row[2] == "30s"
        assert run_row[3].endswith(" val/loss") and run_row[3].split()[0] != "-"
        assert rows(screen)[0][3] == run_row[3]  # the experiment's best, of the same metric
        select(screen, "run:" + str(tmp_path / "runs" / "spirals" / "20260101-000000-aaaa"))
        await pilot.pause()
        assert "(30s ago)" in details(screen)
        now[0] += 95
        await settle(pilot, lambda: rows(screen)[1][2] == "2m", timeout=5)
        assert rows(screen)[0][2] == "2m"
        assert "(2m ago)" in details(screen)


@dataclass
class _Process:
    pid: int


@dataclass
class _Launched:
    run_dir: Path
    process: Any
    experiment_path: Path | None

    @property
    def pid(self) -> int:
        return int(self.process.pid)


@run_async
async def test_a_launched_run_is_listed_at_once_as_starting(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    path = write_experiment(experiments, "spirals")
    run_dir = tmp_path / "runs" / "spirals" / "20260101-000000-new1"
    run_dir.mkdir(parents=True)  # what the launcher makes before the trainer writes anything
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await browser(pilot, app)
        assert "none yet" in details(screen)
        app.launched[run_dir.resolve()] = _Launched(run_dir, _Process(4242), path)  # type: ignore[assignment]
        app.post_message(RunLaunched(run_dir, 4242, path))
        await settle(pilot, lambda: any("new1" in row[0] for row in rows(screen)))
        row = next(row for row in rows(screen) if "new1" in row[0])
        assert row[1] == "starting"
        select(screen, "exp:spirals")
        await pilot.pause()
        assert "none yet" not in details(screen) and "1 starting" in details(screen)
        assert any("Started spirals run 20260101-000000-new1 (pid 4242)" in n for n in notes(app))


@run_async
async def test_the_resume_toast_names_the_experiment(tmp_path: Path) -> None:
    write_experiment(tmp_path / "experiments", "spirals")
    run_dir = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", state="stopped")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await browser(pilot, app)
        app.post_message(RunLaunched(run_dir, 77, Path(), resumed=True))  # type: ignore[arg-type]
        await settle(pilot, lambda: bool(notes(app)))
        assert any("Resumed spirals run 20260101-000000-aaaa (pid 77)." in n for n in notes(app))
        assert not any("  " in n.split("\n", 1)[1] for n in notes(app))


@run_async
async def test_delete_acts_on_what_is_shown(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    write_experiment(experiments, "alpha")
    write_experiment(experiments, "beta")
    runs = tmp_path / "runs"
    make_run(runs, "alpha", "20260101-000000-aaaa", created=FROZEN_NOW - 100)
    make_run(runs, "alpha", "20260101-000000-bbbb", created=FROZEN_NOW - 200)
    make_run(runs, "beta", "20260101-000000-cccc", created=FROZEN_NOW - 300)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await browser(pilot, app)
        select(screen, "run:" + str(runs / "alpha" / "20260101-000000-aaaa"))
        await pilot.press("space", "space")
        assert len(screen.marked) == 2
        assert "◆ 2 marked" in str(screen.query_one("#title", Static).render())
        await pilot.press("slash", *"beta", "enter")
        await pilot.pause()
        assert "2 marked (2 hidden)" in str(screen.query_one("#title", Static).render())
        select(screen, "run:" + str(runs / "beta" / "20260101-000000-cccc"))
        await pilot.press("D")
        from dltui.tui.screens.confirm import ConfirmDialog

        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.title_text == "Delete 1 run?"
        assert "cccc" in dialog.message and "aaaa" not in dialog.message
        assert "2 other marked runs, hidden by the filter, are not deleted" in dialog.message
        await pilot.press("n")


@run_async
async def test_text_from_files_is_shown_as_text(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    text = spirals_toml().replace(
        'description = "MLP on two spirals"',
        'description = "red \\u001b[31m [bold]loud[/bold] [/] \\u001b]2;title\\u0007"',
    )
    text = text.replace("out_features = 8", 'out_features = 8\nname = "[b]first[/b]"')
    write_experiment(experiments, "odd", text)
    # Just an escape sequence: this one crashed the app at start-up (MarkupError).
    write_experiment(
        experiments,
        "esc",
        spirals_toml().replace('description = "MLP on two spirals"', 'description = "\\u001b[31m"'),
    )
    make_run(tmp_path / "runs", "odd", "20260101-000000-aaaa")
    app = make_app(tmp_path, layer_tables=True)
    async with app.run_test(size=(160, 60)) as pilot:
        screen = await browser(pilot, app)
        await checked(pilot, screen)
        select(screen, "exp:odd")
        await pilot.pause()
        shown = screen_text(app)
        assert "red ␛[31m [bold]loud[/bold] [/] ␛]2;title␇" in shown
        assert "[b]first[/b] (dense)" in shown
        assert "\x1b" not in shown
        select(screen, "exp:esc")
        await pilot.pause()
        assert "␛[31m" in screen_text(app) and app.is_running


def test_help_draws_bracket_keys_as_keys() -> None:
    from textual.content import Content

    from dltui.tui.commands import RUN
    from dltui.tui.screens.help import help_text

    text = help_text("Run", RUN.commands)
    plain = text.plain if isinstance(text, Content) else Content.from_markup(text).plain
    lines = plain.splitlines()
    less = next(line for line in lines if "Decrease the smoothing" in line)
    more = next(line for line in lines if "Increase the smoothing" in line)
    assert less.split()[0] == "[" and more.split()[0] == "]"
    assert "[/]" not in plain


def test_help_shows_the_glyphs_people_press() -> None:
    from dltui.tui.commands import RUN
    from dltui.tui.screens.help import help_text

    plain = help_text("Run", RUN.commands).plain
    lines = plain.splitlines()

    def keys_of(sentence: str) -> str:
        return next(line for line in lines if sentence in line).split()[0]

    assert keys_of("previous sample") == ","
    assert keys_of("next sample") == "."
    assert keys_of("Move the cursor one column left") == "←"
    assert keys_of("Move the cursor ten columns left") == "shift+←"
    # Said once, on shift's own line (← said "shift: ten times as far" above it too).
    assert sum("ten" in line and "cursor" in line for line in lines) == 2
    keys = {line.split()[0] for line in lines if line.startswith("  ") and line.strip()}
    assert not keys & {"comma", "full_stop", "left", "right", "shift+left", "question_mark"}


@run_async
async def test_the_details_round_a_live_runs_epoch(tmp_path: Path) -> None:
    writer = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", epochs=1,
                      keep_open=True)  # fmt: skip
    assert not isinstance(writer, Path)
    writer.status("running", step=10, epoch=0.909091)
    try:
        app = make_app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await browser(pilot, app)
            select(screen, "run:" + str(writer.run_dir))
            await pilot.pause()
            text = details(screen)
            assert "epoch 0.9," in text, text
            assert "0.909" not in text
    finally:
        writer.close("finished")


def test_the_epoch_column_writes_epochs_as_the_run_view_does(tmp_path: Path) -> None:
    from dataclasses import replace

    from dltui.runs import discover_runs
    from dltui.tui.screens.run_list import format_progress

    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", epochs=3)
    (run,) = discover_runs(tmp_path / "runs")
    assert format_progress(run) == "3"  # a finished run's whole epochs, not "3.0"
    assert format_progress(replace(run, epoch=0.96)) == "0.9"  # not yet one epoch


@run_async
async def test_the_palette_shows_help_text_as_text(tmp_path: Path) -> None:
    # The sweep command's help names the "[sweep]" table: the palette must not read it
    # as markup (it showed "(its  table)").
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await browser(pilot, app)
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: "Start a sweep" in screen_text(app))
        assert "(its [sweep] table)" in screen_text(app)


@run_async
async def test_the_palette_says_each_commands_key_as_remapped(tmp_path: Path) -> None:
    # The palette is where people find a command by name; it should teach its key too.
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"browser.compare" = "C"\n')
    app = make_app(tmp_path, keymap=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await browser(pilot, app)
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: "Start a sweep" in screen_text(app))
        text = screen_text(app)
        assert "w · Start" in text and "C · Compare" in text and "c · Compare" not in text


@run_async
async def test_what_is_typed_right_after_slash_goes_to_the_filter(tmp_path: Path) -> None:
    # Keys that arrive together ("/gan" typed fast, or pasted) used to reach the list
    # before the filter box had the focus: `g` went to the top, `n` opened the template
    # picker, and the filter stayed empty.
    write_experiment(tmp_path / "experiments", "gan-ring")
    write_experiment(tmp_path / "experiments", "mlp")
    (tmp_path / "runs").mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browser(pilot, app)
        for key, character in (("slash", "/"), ("g", "g"), ("a", "a"), ("n", "n")):
            event = events.Key(key, character)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal does: no wait between keys
        await settle(pilot, lambda: screen.query_one("#filter", Input).value != "", timeout=3)
        assert app.screen is screen
        assert screen.query_one("#filter", Input).value == "gan"
        assert [row[0].strip() for row in rows(screen)] == ["▾ gan-ring"]
        await pilot.press("slash", "x")  # in the box a slash is typed (tb/run1 holds one)
        assert screen.query_one("#filter", Input).value == "gan/x"


@run_async
async def test_the_footer_says_enter_opens(tmp_path: Path) -> None:
    # The list's own (hidden) enter shadowed the browser's "enter Open": a new user saw
    # every key but the one that opens a run.
    write_experiment(tmp_path / "experiments", "spirals")
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browser(pilot, app)
        select(screen, "exp:spirals")
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "enter Open" in footer, footer
        assert footer.index("enter Open") < footer.index("c Compare")


@run_async
async def test_the_details_count_in_words(tmp_path: Path) -> None:
    # "Model 1 layers: dense" and "1 problem(s) in x.toml" read as a form letter.
    experiments = tmp_path / "experiments"
    one_layer = spirals_toml().replace(
        '[[model.layers]]\ntype = "tanh"\n\n[[model.layers]]\ntype = "dense"\nout_features = 2\n',
        "",
    )
    write_experiment(experiments, "single", one_layer)
    write_experiment(experiments, "typo", spirals_toml().replace('"tanh"', '"tanhh"'))
    (tmp_path / "runs").mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await browser(pilot, app)
        select(screen, "exp:single")
        await pilot.pause()
        text = details(screen)
        assert "1 layer: dense" in text and "1 layers" not in text
        select(screen, "exp:typo")
        await pilot.pause()
        text = details(screen)
        assert "1 problem in typo.toml" in text and "problem(s)" not in text


@run_async
async def test_a_run_stopped_from_the_dashboard_is_said_to_have_stopped(tmp_path: Path) -> None:
    # S in the dashboard stops a run (status "stopped", a checkpoint saved), and the toast
    # then called it "interrupted", as if something had gone wrong.
    from dltui.run_format import EXIT_INTERRUPTED
    from dltui.tui.messages import RunExited

    write_experiment(tmp_path / "experiments", "spirals")
    run = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", state="stopped")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await browser(pilot, app)
        app.post_message(RunExited(Path(str(run)), EXIT_INTERRUPTED, reason="SIGTERM received"))
        await pilot.pause(0.1)
        said = notes(app)
        assert any("spirals run 20260101-000000-aaaa: stopped." in note for note in said), said


@run_async
async def test_the_details_write_steps_as_the_run_view_does(tmp_path: Path) -> None:
    # The run view's header says "step 2,002"; the details said "step 2002".
    write_experiment(tmp_path / "experiments", "spirals")
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", steps_per_epoch=300)
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await browser(pilot, app)
        select(screen, "run:" + str(tmp_path / "runs" / "spirals" / "20260101-000000-aaaa"))
        await pilot.pause()
        assert "step 1,500" in details(screen)
