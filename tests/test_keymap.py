"""User key remaps: the keymap file's loader, and the dashboard applying it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fifo import make_fifo, returns_within
from textual.widgets import Static
from tui_runs import make_app, make_run, run_async, settle, write_experiment

from dltui.cli import main
from dltui.tui.app import DashboardApp
from dltui.tui.commands import APP, BROWSER, RUN
from dltui.tui.key_footer import KeyFooter
from dltui.tui.keymap import (
    binding_ids,
    binding_scopes,
    default_keymap_path,
    key_problem,
    load_keymap,
    problems_report,
)
from dltui.tui.screens.browser import BrowserScreen
from dltui.tui.screens.help import HelpScreen

KNOWN = {command.id for command in (*APP.commands, *BROWSER.commands, *RUN.commands)}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keymap.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the loader --------------------------------------------------------------------------


def test_good_file_is_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '# my keys\n"browser.launch" = "ctrl+r"\n"run.zoom" = "Z"\n'
        '"app.help" = "f1, question_mark"\n\n[browser]\nsort = "O"\n',
    )
    mapping, problems = load_keymap(path, KNOWN)
    assert problems == []
    assert mapping == {
        "browser.launch": "ctrl+r",
        "run.zoom": "Z",
        "app.help": "f1,question_mark",
        "browser.sort": "O",  # a table nests ids, like dotted keys
    }


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '"browser.launch" = "ctrl+r"\n"run.zoom" "Z"\n')
    mapping, problems = load_keymap(path, KNOWN)
    assert mapping == {}
    assert len(problems) == 1
    assert problems[0].line == 2
    text = str(problems[0])
    assert str(path) in text and "line 2" in text and "not valid TOML" in text


def test_unknown_id_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, '"browser.lanch" = "ctrl+r"\n"run.zoom" = "Z"\n"nothing.like" = "x"\n')
    mapping, problems = load_keymap(path, KNOWN)
    assert mapping == {"run.zoom": "Z"}  # the valid entry is kept
    texts = [str(p) for p in problems]
    assert len(texts) == 2
    assert str(path) in texts[0] and "'browser.lanch'" in texts[0]
    assert "did you mean 'browser.launch'?" in texts[0]
    assert "'nothing.like'" in texts[1] and "did you mean" not in texts[1]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("3", "got int 3"),
        ('["a", "b"]', "got an array"),
        ('""', "non-empty"),
        ('"   "', "non-empty"),
        ('"a,,b"', "empty key"),
        ('"ctlr+r"', "did you mean 'ctrl'?"),
        ('"F1"', "did you mean 'f1'?"),
        ('"ctrl r"', "no spaces"),
    ],
)
def test_bad_value_names_file_and_id(tmp_path: Path, value: str, words: str) -> None:
    path = write(tmp_path, f'"browser.launch" = {value}\n"run.zoom" = "Z"\n')
    mapping, problems = load_keymap(path, KNOWN)
    assert mapping == {"run.zoom": "Z"}
    assert len(problems) == 1
    text = str(problems[0])
    assert str(path) in text and "'browser.launch'" in text and words in text


def test_missing_or_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    mapping, problems = load_keymap(tmp_path / "absent.toml")
    assert mapping == {} and "no such file" in str(problems[0])
    mapping, problems = load_keymap(tmp_path)
    assert mapping == {} and "folder" in str(problems[0])
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "UTF-8" in str(load_keymap(binary)[1][0])


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('"run.zoom" = ' + "[" * 600 + "\n", 1, "nested more than 64 levels deep"),
        ('"run.zoom" = "Z"\n"app.help" = ["f1",\n', 2, "the file ends inside the array begun"),
        ('"run.zoom" = "Z"\n"app.help" = ', 2, "(at the end of the file)"),
        ('"run.zoom" = 1' + "0" * 5000 + "\n", 1, "a number too long to read"),
        ("[" + ".".join(["t"] * 5000) + ']\nb = "x"\n', 1, "nested more than 64 levels deep"),
    ],
    ids=["deep", "unclosed-array", "value-missing", "huge-integer", "dotted-tables"],
)
def test_hostile_toml_is_a_problem_with_a_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    mapping, problems = load_keymap(path, KNOWN)
    assert mapping == {} and len(problems) == 1
    assert problems[0].line == line and words in str(problems[0])
    assert str(path) in str(problems[0])


def test_a_fifo_or_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    fifo = make_fifo(tmp_path / "keymap.toml")  # opening it would block until a writer came
    _, problems = returns_within(lambda: load_keymap(fifo), fifo)
    assert "not a regular file" in str(problems[0]) and str(fifo) in str(problems[0])
    huge = tmp_path / "huge.toml"
    huge.write_text('"run.zoom" = "Z"\n' + "# padding\n" * 100_000)
    _, problems = load_keymap(huge)
    assert "larger than" in str(problems[0])


def test_hostile_text_in_a_keymap_is_shown_not_obeyed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '"\\u001b]2;pwned\\u0007" = "ctrl+r"\n"run.zoom" = "\\u001b[2J"\n'
        '"run.help" = "' + "x" * 5000 + '"\n',
    )
    _, problems = load_keymap(path, KNOWN)
    report = problems_report(problems)
    assert "\x1b" not in report and "\x07" not in report
    assert all(len(str(p)) < 400 for p in problems)  # a long value is cut, not echoed


def test_keys_textual_knows_are_accepted() -> None:
    for key in ("ctrl+r", "G", "?", "slash", "question_mark", "f12", "shift+tab", "space", "é"):
        assert key_problem(key) is None, key
    assert "'enterr'" in (key_problem("enterr") or "")


def test_default_path_follows_xdg(tmp_path: Path) -> None:
    xdg = tmp_path / "config"
    assert default_keymap_path({"XDG_CONFIG_HOME": str(xdg)}) == xdg / "dltui" / "keymap.toml"
    home = Path.home() / ".config" / "dltui" / "keymap.toml"
    assert default_keymap_path({}) == home
    assert default_keymap_path({"XDG_CONFIG_HOME": "relative/path"}) == home


def test_every_command_and_builder_binding_is_known() -> None:
    ids = binding_ids()
    assert ids >= KNOWN
    assert {"browser.delete", "builder.save", "confirm.yes"} <= ids


def test_every_class_takes_its_bindings_from_the_table() -> None:
    """What the classes bind is exactly the table's: every binding has an id, none is missed."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import dltui.tui

    imported: set[tuple[str | None, str, str]] = set()
    for info in pkgutil.walk_packages(dltui.tui.__path__, "dltui.tui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            mine = isinstance(value, type) and value.__module__.startswith("dltui.")
            if mine and issubclass(value, DOMNode):
                for b in value.__dict__.get("BINDINGS", ()):
                    assert isinstance(b, Binding), (value, b)
                    imported.add((b.id, b.key, b.action))
    read = {(b.id, b.key, b.action) for s in binding_scopes() for b in s.bindings}
    assert read == imported
    assert all(binding_id for binding_id, _, _ in imported)


def test_report_is_limited() -> None:
    problems = load_keymap(Path("/nonexistent/keymap.toml"))[1] * 9
    report = problems_report(problems, limit=6)
    assert report.count("no such file") == 6 and report.endswith("... and 3 more")


def test_missing_keymap_option_exits_before_the_ui(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--keymap", str(tmp_path / "absent.toml")])
    assert exited.value.code == 2
    assert "absent.toml: no such file" in capsys.readouterr().err


# -- the dashboard -----------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    write_experiment(tmp_path / "experiments", "spirals")
    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", epochs=1)
    (tmp_path / "themes").mkdir()
    return tmp_path


def footer_keys(app: DashboardApp) -> dict[str, str]:
    keys, _palette = app.screen.query_one(KeyFooter).entries()
    return {entry.description: entry.display for entry in keys}


@run_async
async def test_remapped_keys_work_and_show(workspace: Path) -> None:
    keymap = write(
        workspace,
        '"browser.sort" = "ctrl+o"\n"app.help" = "f1"\n"browser.srot" = "x"\n',
    )
    app = make_app(workspace, keymap=keymap)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        # the new key runs the command, the old one no longer does
        await pilot.press("o")
        assert screen.sort_mode == "newest"
        await pilot.press("ctrl+o")
        assert screen.sort_mode == "name"
        # the footer shows the new keys
        shown = footer_keys(app)
        assert shown["Sort"] == "^o"
        assert shown["Help"] == "f1"
        # the unknown id is reported once, with a suggestion; the rest still applies
        await settle(pilot, lambda: any("Keymap" in (n.title or "") for n in app._notifications))
        notes = [n for n in app._notifications if n.title == "Keymap problems"]
        assert len(notes) == 1 and notes[0].severity == "error"
        assert "'browser.srot'" in notes[0].message and "'browser.sort'" in notes[0].message
        # help opens with f1 (not ?) and lists the remapped keys
        await pilot.press("question_mark")
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body", Static).render())
        sort_line = next(line for line in text.splitlines() if "Cycle the order" in line)
        help_line = next(line for line in text.splitlines() if "Show every key" in line)
        assert sort_line.split()[0] == "ctrl+o"
        assert help_line.split()[0] == "f1"


@run_async
async def test_broken_keymap_is_reported_and_defaults_stay(workspace: Path) -> None:
    keymap = write(workspace, '"browser.sort" = \n')
    app = make_app(workspace, keymap=keymap)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        await settle(pilot, lambda: bool(app._notifications))
        notes = [n for n in app._notifications if n.title == "Keymap problems"]
        assert len(notes) == 1
        assert str(keymap) in notes[0].message and "line 1" in notes[0].message
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await pilot.press("o")
        assert screen.sort_mode == "name"


@run_async
async def test_markup_in_a_keymap_is_shown_as_text(workspace: Path) -> None:
    # Ids and keys come from the file: "[/]" or "[bold]" in them is text, and a
    # closing tag with nothing to close must not crash the dashboard.
    keymap = write(workspace, '"[/]" = "x"\n"[bold]loud" = "[/b]"\n"run.zoom" = "Z"\n')
    app = make_app(workspace, keymap=keymap)
    async with app.run_test(size=(140, 30), notifications=True) as pilot:
        await settle(pilot, lambda: any(n.title == "Keymap problems" for n in app._notifications))
        await pilot.pause(0.3)  # the toast is drawn
        (note,) = [n for n in app._notifications if n.title == "Keymap problems"]
        assert "'[/]'" in note.message and "[bold]loud" in note.message
        assert app.is_running and isinstance(app.screen, BrowserScreen)


@run_async
async def test_a_remap_that_takes_another_commands_key_is_reported(workspace: Path) -> None:
    keymap = write(workspace, '"browser.sort" = "n"\n')
    app = make_app(workspace, keymap=keymap)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await pilot.press("n")
        assert screen.sort_mode == "name"  # the keymap wins: n sorts instead of "new"
        await settle(pilot, lambda: bool(app._notifications))
        notes = [n for n in app._notifications if n.title == "Keymap problems"]
        assert len(notes) == 1
        assert "'browser.sort'" in notes[0].message
        assert "n was also the key of browser.new (New)" in notes[0].message


def test_clashes_need_a_remap_and_a_shared_scope(tmp_path: Path) -> None:
    from textual.binding import Binding

    from dltui.tui.keymap import BindingScope, keymap_clashes

    app = (Binding("q", "quit", "Quit", id="app.quit"),)
    screen = BindingScope(
        "Screen",
        (
            Binding("escape,q", "close", "Close", id="s.close"),  # shadows quit by design
            Binding("a", "one", "One", id="s.one"),
            Binding("b", "two", "Two", id="s.two"),
        ),
        includes_app=True,
    )
    file = tmp_path / "keymap.toml"
    assert keymap_clashes({}, [screen], app, file) == []
    # swapping two keys is no clash
    assert keymap_clashes({"s.one": "b", "s.two": "a"}, [screen], app, file) == []
    clashes = keymap_clashes({"s.one": "q"}, [screen], app, file)
    assert {c.command_id for c in clashes} == {"s.one"}
    assert "s.close (Close)" in clashes[0].message and "app.quit" in clashes[1].message
    problems = keymap_clashes({"s.one": "b,?", "app.quit": "question_mark"}, [screen], app, file)
    assert sorted(p.message.split()[0] for p in problems) == ["b", "question_mark"]


def test_reading_the_bindings_imports_nothing() -> None:
    """The check runs on a worker beside the browser's: importing there could deadlock."""
    import subprocess
    import sys

    code = (
        "import sys, dltui.tui.app\n"
        "from dltui.tui.keymap import binding_scopes\n"
        "before = set(sys.modules)\n"
        "assert binding_scopes()\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_keys_command_lists_ids_with_the_keymap_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keymap = write(tmp_path, '"run.zoom" = "Z"\n"x.y" = 1\n')
    assert main(["--keymap", str(keymap), "keys"]) == 0
    out, err = capsys.readouterr()
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert lines["browser.delete"][:2] == ["D", "Delete"]
    assert lines["run.zoom"][0] == "Z"
    assert "Everywhere:" in out and "'x.y'" in err
