"""Themes: every theme offered applies without a crash; a bad one is reported and the last stays.

The dashboard offers a theme (ctrl+t, the palette) only once its variables were
built and dltui's styles parsed with them. These tests drive the real app: they
cycle through every theme, load bad files at start-up and while running, save a
bad file over the theme in use, and throw fuzzed theme files at it.
"""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from tui_runs import make_app, run_async, settle, write_experiment

from dltui.tui.screens.browser import BrowserScreen

BAD_SCROLLBAR = 'name = "x"\nprimary = "#268bd2"\n[variables]\n"scrollbar" = "round red"\n'


def _workspace(root: Path) -> Path:
    write_experiment(root / "experiments", "spirals")
    (root / "runs").mkdir(parents=True, exist_ok=True)
    (root / "themes").mkdir(parents=True, exist_ok=True)
    return root


def _notes(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def _checked(pilot: object, app: object) -> None:
    """Wait until the theme files have been checked (and the browser is up)."""
    await settle(
        pilot,
        lambda: (
            isinstance(app.screen, BrowserScreen)  # type: ignore[attr-defined]
            and app.themes_checked
        ),  # type: ignore[attr-defined]
    )


@run_async
async def test_ctrl_t_cycles_through_every_offered_theme_without_a_crash(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    app = make_app(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        offered = list(app.offered_themes)
        assert {"dltui-midnight", "dltui-paper", "dltui-terminal", "dltui-ember"} <= set(offered)
        seen = {app.theme}
        for _ in offered:
            await pilot.press("ctrl+t")
            await pilot.pause()
            seen.add(app.theme)
        assert seen == set(offered)
        assert app.is_running
        # The terminal theme from the palette's action, and a screen with buttons on it.
        app.action_set_theme("dltui-terminal")
        await pilot.pause()
        assert app.theme == "dltui-terminal"
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.is_running


@run_async
async def test_a_theme_whose_variable_breaks_the_styles_is_reported_not_offered(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    (root / "themes" / "x.toml").write_text(BAD_SCROLLBAR)
    app = make_app(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        assert "x" not in app.offered_themes
        app.action_set_theme("x")
        await pilot.pause()
        assert app.theme == "dltui-midnight"
        notes = [n for n in _notes(app) if "x.toml" in n]
        assert len(notes) == 1
        assert "variables.scrollbar" in notes[0] and "round red" in notes[0]


@run_async
async def test_saving_a_bad_file_over_the_theme_in_use_keeps_the_previous_one(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    mine = root / "themes" / "mine.toml"
    mine.write_text('name = "mine"\nprimary = "#ff0000"\n')
    app = make_app(root, watch=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        app.action_set_theme("mine")
        await pilot.pause()
        assert app.theme == "mine"
        mine.write_text(BAD_SCROLLBAR.replace('"x"', '"mine"'))
        await settle(pilot, lambda: any("mine.toml" in n for n in _notes(app)))
        await pilot.pause()
        assert app.is_running
        assert app.theme == "mine"
        assert app.current_theme.variables.get("scrollbar") is None  # the previous version
        assert any("variables.scrollbar" in n for n in _notes(app))


@run_async
async def test_a_bad_file_named_like_the_default_theme_does_not_stop_the_start(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    (root / "themes" / "midnight.toml").write_text(BAD_SCROLLBAR.replace('"x"', '"dltui-midnight"'))
    app = make_app(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        assert app.is_running
        assert app.theme == "dltui-midnight"
        assert app.current_theme.variables.get("scrollbar") is None  # the shipped one
        assert any("midnight.toml" in n and "variables.scrollbar" in n for n in _notes(app))


@run_async
async def test_a_good_file_named_like_the_default_theme_is_used(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / "themes" / "midnight.toml").write_text('name = "dltui-midnight"\nprimary = "#123456"\n')
    app = make_app(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        assert app.theme == "dltui-midnight"
        assert app.current_theme.primary == "#123456"


@run_async
async def test_theme_text_is_shown_as_text(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / "themes" / "[b]odd.toml").write_text('name = "odd"\nprimary = "#zz\\u001b[31m[/]"\n')
    app = make_app(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot, app)
        assert app.is_running
        notes = [n for n in _notes(app) if "odd" in n]
        assert notes and "[b]odd.toml" in notes[0] and "\x1b" not in notes[0]


def _every_style_source(app: object) -> Stylesheet:
    """The app's stylesheet plus every widget class's own CSS: what could ever be parsed."""
    sheet = app.stylesheet.copy()  # type: ignore[attr-defined]
    pending = [DOMNode]
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
                css = sub.__dict__.get("DEFAULT_CSS", "")
                if css:
                    sheet.add_source(css, (sub.__module__, f"{sub.__qualname__}.DEFAULT_CSS"))
    return sheet


_NAMES = st.text(string.ascii_lowercase + "-", min_size=1, max_size=12)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "#268bd2",
            "red",
            "round red",
            "ansi_blue",
            "bold",
            "50%",
            "$primary",
            "rgb(1,2,3)",
            "#12345",
            "",
            "transparent",
            "red 50%",
            "tall $primary",
            "none",
            "[b]x[/b]",
            "\x1b[31m",
        ]
    ),
    st.text(max_size=10),
    st.integers(),
    st.booleans(),
)
_GOOD_COLOURS = st.sampled_from(
    ["#268bd2", "#002b36", "red", "ansi_blue", "ansi_default", "rgb(10,20,30)", "#fff8"]
)
_VARIABLE_NAMES = st.one_of(
    st.sampled_from(
        [
            "scrollbar",
            "border",
            "primary",
            "foreground-muted",
            "footer-key-foreground",
            "block-cursor-text-style",
            "ansi-background",
            "text-muted",
            "input-cursor-text-style",
        ]
    ),
    _NAMES,
)
_FIELDS = st.sampled_from(
    [
        "primary",
        "secondary",
        "background",
        "foreground",
        "surface",
        "panel",
        "boost",
        "accent",
        "error",
        "dark",
        "ansi",
        "luminosity_spread",
        "text_alpha",
    ]
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text) + '"'


@st.composite
def theme_files(draw: st.DrawFn) -> str:
    lines = [f'name = "{draw(_NAMES)}"']
    if draw(st.integers(0, 9)):  # now and then a file without the required primary
        lines.append(f"primary = {_toml_value(draw(st.sampled_from(['#268bd2', 'ansi_blue'])))}")
    for field in draw(st.lists(_FIELDS, max_size=4, unique=True)):
        if field == "primary":
            continue
        # Mostly values of the right kind, so that most files get as far as the style check.
        if draw(st.integers(0, 5)):
            good = {"dark": st.booleans(), "ansi": st.booleans()}.get(field, _GOOD_COLOURS)
            if field in ("luminosity_spread", "text_alpha"):
                good = st.sampled_from([0.0, 0.15, 0.95, 1])
            value = draw(good)
        else:
            value = draw(_VALUES)
        lines.append(f"{field} = {_toml_value(value)}")
    variables = draw(st.dictionaries(_VARIABLE_NAMES, _VALUES, max_size=4))
    if variables:
        lines.append("[variables]")
        lines.extend(f'"{k}" = {_toml_value(v)}' for k, v in variables.items())
    return "\n".join(lines) + "\n"


def _as_default(text: str) -> str:
    """``text`` with its name replaced by the default theme's."""
    first, rest = text.split("\n", 1)
    assert first.startswith("name = ")
    return 'name = "dltui-midnight"\n' + rest


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=st.lists(theme_files(), min_size=5, max_size=8))
def test_fuzzed_theme_files_never_crash_loaded_selected_or_saved_over(
    tmp_path_factory: object, files: list[str]
) -> None:
    root = _workspace(tmp_path_factory.mktemp("fuzz"))  # type: ignore[attr-defined]
    themes = root / "themes"
    for index, text in enumerate(files):
        (themes / f"t{index}.toml").write_text(text)
    # One of them also under the default theme's name, read at start-up.
    (themes / "midnight.toml").write_text(_as_default(files[0]))

    @run_async
    async def drive() -> None:
        app = make_app(root, watch=True)
        async with app.run_test(size=(90, 28)) as pilot:
            await _checked(pilot, app)
            # Every theme that came from a fuzzed file (the shipped ones have their own test).
            fuzzed = [n for n, p in app.theme_sources.items() if p.parent == themes]
            for name in fuzzed:
                app.action_set_theme(name)
                await pilot.pause()
                assert app.is_running, name
                # What the app would parse if any screen or widget were shown now.
                sheet = _every_style_source(app)
                sheet.set_variables(app.get_css_variables())
                sheet.parse()
            # Save each fuzzed file over the theme in use.
            app.action_set_theme("dltui-midnight")
            await pilot.pause()
            before = app.current_theme
            for text in files[:3]:
                (themes / "midnight.toml").write_text(_as_default(text))
                app.reload_themes()
                await settle(pilot, lambda: app.themes_checked)
                assert app.is_running
                assert app.theme == "dltui-midnight"
                sheet = _every_style_source(app)
                sheet.set_variables(app.get_css_variables())
                sheet.parse()
            assert app.current_theme is not None and before is not None

    drive()
