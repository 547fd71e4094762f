"""The input half of the fault tier: hostile experiment and keymap files never crash a reader.

Hypothesis takes the shipped experiments and a real keymap and makes them torn
(cut at any byte, mid-character too), garbage (random bytes spliced in),
deeply nested (brackets, inline tables, dotted keys), huge (long lines, long
arrays, past the size limit) and hostile text (terminal escapes, Rich markup,
NUL, bidirectional overrides, as keys, values and raw bytes). Each file goes
through `dltui check`'s code path (printing included), `load_experiment`, and
the keymap loader. Whatever the file, the reader returns or reports problems
that name the file; nothing raises past it, nothing it prints holds a control
character, and nothing recurses past the stack.

The figures (files tried per kind and reader) are printed at the end of the
module (``pytest -s``) and summed in the README's Reliability section.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dltui.checks import check_command
from dltui.spec import Experiment, SpecError, load_experiment
from dltui.tui.keymap import load_keymap

ROOT = Path(__file__).parents[1]
SEEDS = {p.name: p.read_bytes() for p in sorted((ROOT / "experiments").glob("*.toml"))}
KEYMAP = (
    b'# my keys\n"browser.launch" = "ctrl+r"\n"app.help" = "f1,question_mark"\n\n'
    b'[run]\nzoom = "Z"\nsmooth = "s"\n'
)
HOSTILE = [
    "\x1b]2;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x1b[31mred\x1b[0m",
    "\x9b31m",
    "[bold red]loud[/]",
    "[link=file:///etc/passwd]x[/link]",
    "[/]",
    "$ansi-background",
    "\x00",
    "\u202eevil\u202c",
    "\r\roverwritten",
    "\x7f\x08\x08",
    "line\nbreak",
    "\U0010ffff",
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

TRIED: Counter[tuple[str, str]] = Counter()
"""(kind of file, reader) -> files tried, for the summary."""

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dltui-fault-") as name:
        yield Path(name)
    summary = ", ".join(f"{kind}/{reader}: {n}" for (kind, reader), n in sorted(TRIED.items()))
    print(f"\nfault tier (input): {sum(TRIED.values())} files tried ({summary})")


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, every control character escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif CONTROL.match(char) or char == "\n":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# ------------------------------------------------------------------ the readers


def check_and_load(path: Path, kind: str) -> None:
    """Every experiment reader on ``path``: none may raise, each names the file."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = check_command([str(path)])
    printed = out.getvalue()
    assert code in (0, 2), printed
    assert not CONTROL.search(printed), printed  # shown, never obeyed
    assert max(map(len, printed.splitlines()), default=0) < 2000  # a huge value is cut
    lines = printed.splitlines()
    if code == 2:
        assert lines[0] == f"FAIL  {path}"
        assert len(lines) > 1 and all(line.startswith(f"  {path}") for line in lines[1:])
    TRIED[(kind, "check")] += 1
    try:
        experiment = load_experiment(path)
    except SpecError as error:
        assert error.problems and all(p.file == str(path) for p in error.problems)
        assert all(p.message for p in error.problems)
    else:
        assert isinstance(experiment, Experiment)
    TRIED[(kind, "load_experiment")] += 1


def keymap(path: Path, kind: str) -> None:
    mapping, problems = load_keymap(path, {"browser.launch", "app.help", "run.zoom"})
    assert isinstance(mapping, dict)
    for problem in problems:
        assert problem.file == path
        assert not CONTROL.search(str(problem)), str(problem)
        assert len(str(problem)) < 2000
    TRIED[(kind, "keymap")] += 1


def both(folder: Path, data: bytes, kind: str, seed: str = "exp.toml") -> None:
    path = folder / seed
    path.write_bytes(data)
    check_and_load(path, kind)
    keys = folder / "keymap.toml"
    keys.write_bytes(data)
    keymap(keys, kind)


# ------------------------------------------------------------------ the files

CSV = """
[data]
source = "csv"
path = {path}
target = {target}
[[model.layers]]
type = "dense"
out_features = 2
"""

seeds = st.sampled_from(sorted(SEEDS))


@FAST
@given(name=seeds, cut=st.floats(0, 1, exclude_max=True))
def test_torn_files(folder: Path, name: str, cut: float) -> None:
    for source in (SEEDS[name], KEYMAP):
        both(folder, source[: int(len(source) * cut)], "torn", name)


@FAST
@given(name=seeds, at=st.floats(0, 1), junk=st.binary(min_size=1, max_size=64), cut=st.booleans())
def test_garbage_spliced_in(folder: Path, name: str, at: float, junk: bytes, cut: bool) -> None:
    for source in (SEEDS[name], KEYMAP):
        i = int(len(source) * at)
        tail = source[i + len(junk) :] if cut else source[i:]
        both(folder, source[:i] + junk + tail, "garbage", name)


@FAST
@given(junk=st.binary(max_size=400))
def test_pure_garbage(folder: Path, junk: bytes) -> None:
    both(folder, junk, "garbage")


@FAST
@given(
    name=seeds,
    form=st.sampled_from(["arrays", "tables", "mixed", "dotted-key", "dotted-header", "closed"]),
    depth=st.integers(10, 1500),
    at=st.floats(0, 1),
)
def test_deeply_nested(folder: Path, name: str, form: str, depth: int, at: float) -> None:
    nest = {
        "arrays": "x = " + "[" * depth,
        "tables": "x = " + "{ a = " * depth,
        "mixed": "x = " + "[{ a = " * (depth // 2),
        "dotted-key": ".".join(["a"] * depth) + " = 1",
        "dotted-header": "[" + ".".join(["data"] * depth) + "]",
        "closed": "x = " + "[" * depth + "]" * depth,
    }[form]
    for source in (SEEDS[name], KEYMAP):
        lines = source.split(b"\n")
        i = int(len(lines) * at)
        both(folder, b"\n".join([*lines[:i], nest.encode(), *lines[i:]]), "nested", name)


@settings(FAST, max_examples=20)
@given(
    name=seeds,
    form=st.sampled_from(
        ["long-string", "long-array", "long-line", "over-limit", "many-keys", "wrong-type", "key"]
    ),
    size=st.integers(100_000, 500_000),
)
def test_huge(folder: Path, name: str, form: str, size: int) -> None:
    extra = {
        "long-string": 'description = "' + "x" * size + '"\n',
        "long-array": "tags = [" + ", ".join(['"t"'] * (size // 10)) + "]\n",
        "long-line": "# " + "y" * size + "\n",
        "over-limit": "# " + "z" * (4 * 1024 * 1024 + size) + "\n",
        "many-keys": "".join(f"k{i} = {i}\n" for i in range(size // 20)),
        "wrong-type": 'seed = "' + "s" * size + '"\n',
        "key": "k" * size + " = 1\n",
    }[form].encode()
    for source in (SEEDS[name], KEYMAP):
        both(folder, extra + source, "huge", name)


@FAST
@given(
    name=seeds,
    text=st.lists(st.sampled_from(HOSTILE) | st.text(max_size=8), min_size=1, max_size=4).map(
        "".join
    ),
    where=st.sampled_from(["name", "description", "key", "value", "raw", "tag", "path"]),
)
def test_hostile_text(folder: Path, name: str, text: str, where: str) -> None:
    quoted = toml_string(text)
    line = {
        "name": f"name = {quoted}",
        "description": f"description = {quoted}",
        "key": f"{quoted} = 1",
        "value": f'"browser.launch" = {quoted}',
        "raw": "# " + text,
        "tag": f"tags = [{quoted}]",
    }.get(where, "")
    # The seed's own top-level keys give way, so the hostile value is what is validated.
    seed = b"\n".join(
        row for row in SEEDS[name].split(b"\n") if not row.startswith((b"name", b"description"))
    )
    if where == "path":
        seed = CSV.format(path=quoted, target=quoted).encode()
    for source in (seed, KEYMAP):
        both(folder, line.encode() + b"\n" + source, "hostile", name)


@pytest.mark.skipif(
    bool(os.environ.get("PYTEST_XDIST_WORKER")),
    reason="the tally needs the whole module in one process (xdist spreads it)",
)
def test_the_tier_tried_every_kind() -> None:
    # Runs last in this module (pytest keeps file order): each kind reached every reader.
    kinds = {kind for kind, _ in TRIED}
    if kinds:  # empty when this test is selected alone
        assert kinds == {"torn", "garbage", "nested", "huge", "hostile"}
        assert {reader for _, reader in TRIED} == {"check", "load_experiment", "keymap"}
