"""Files read within limits: deep nesting, huge files and non-files are reported, not fatal."""

from __future__ import annotations

import json
import os
import threading
import tomllib
from pathlib import Path

import pytest

from dltui.bounded import (
    MAX_NESTING,
    FileLimitError,
    check_regular_file,
    loads_json,
    loads_toml,
    nesting_depth,
    read_bytes_limited,
    read_text_limited,
)
from dltui.safe_text import printable


def test_nesting_depth_counts_the_deepest_bracket() -> None:
    assert nesting_depth("a = 1") == 0
    assert nesting_depth("x = [[1, 2], {a = [3]}]") == 3
    assert nesting_depth(b"[" * 10 + b"]" * 10) == 10


def test_deep_json_is_refused_naming_the_file() -> None:
    with pytest.raises(FileLimitError, match=r"events\.jsonl: nested more than 64"):
        loads_json("[" * 200_000, source="events.jsonl")
    # Without the scan the parser's own recursion limit still ends in a clean error.
    with pytest.raises(FileLimitError, match=r"status\.json: nested too deeply"):
        loads_json("[" * 200_000, source="status.json", max_depth=None)
    assert loads_json('{"a": [1, [2]]}', source="x") == {"a": [1, [2]]}
    with pytest.raises(json.JSONDecodeError):
        loads_json("{", source="x")


def test_deep_toml_is_refused_with_its_line() -> None:
    text = "a = 1\nx = " + "[" * 600
    with pytest.raises(FileLimitError, match=r"e\.toml: line 2: nested more than 64"):
        loads_toml(text, source="e.toml")
    assert loads_toml("x = [[1], [2]]", source="e.toml") == {"x": [[1], [2]]}
    with pytest.raises(tomllib.TOMLDecodeError):
        loads_toml("x = ", source="e.toml")
    # Just inside the limit still parses.
    inside = "x = " + "[" * MAX_NESTING + "]" * MAX_NESTING
    assert loads_toml(inside, source="e.toml")


def test_dotted_keys_nesting_tables_without_brackets_are_refused_too() -> None:
    # `[a.a.a...]` nests tables with no bracket to count; code that walks the
    # result recursively (the keymap's flattening) overflowed the stack.
    header = "a = 1\n[" + ".".join(["t"] * 5000) + "]\nb = 1\n"
    with pytest.raises(FileLimitError, match=r"k\.toml: line 2: nested more than 64"):
        loads_toml(header, source="k.toml")
    with pytest.raises(FileLimitError, match="line 1: nested more than 64"):
        loads_toml(".".join(["t"] * 100) + " = 1\n", source="k.toml")
    inside = ".".join(["t"] * MAX_NESTING) + " = 1\n"
    assert loads_toml(inside, source="k.toml")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_bytes_limited(fifo)
        except FileLimitError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert outcome and "not a regular file" in str(outcome[0])


def test_devices_folders_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileLimitError, match="not a regular file"):
        read_bytes_limited("/dev/zero")
    with pytest.raises(FileLimitError, match="is a folder"):
        check_regular_file(tmp_path)
    with pytest.raises(FileLimitError, match="no such file"):
        check_regular_file(tmp_path / "nope")


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 5000)
    with pytest.raises(FileLimitError, match=r"big\.toml: 4\.9 KiB is larger than the 1\.0 KiB"):
        read_bytes_limited(big, limit=1024)
    assert read_bytes_limited(big, limit=5000) == b"#" * 5000


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_bytes(b"a = 1\nb = '\xff'\n")
    with pytest.raises(FileLimitError, match="line 2: not UTF-8"):
        read_text_limited(path)


def test_printable_shows_control_characters_instead_of_obeying_them() -> None:
    hostile = "ok\x1b]2;owned\x07 \x1b[2J\x1b[H\u009b31m\x00\x7f"
    shown = printable(hostile)
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in shown)
    assert not any(0x7F <= ord(c) <= 0x9F for c in shown)
    assert shown.startswith("ok␛]2;owned␇ ␛[2J␛[H\\x9b31m␀␡")
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("a\nb", keep_newlines=False) == "a⏎b"
    assert printable("x\u202ey") == "x\\u202ey"
