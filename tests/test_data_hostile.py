"""Data paths that are not data: FIFOs, devices, files too large, and files that hold secrets.

A FIFO as a data path blocked the trainer in ``open()`` where SIGTERM could not
end it, ``/dev/zero`` grew `dltui check` without bound, and a CSV source pointed
at a file that is not CSV copied that file's first line (a password hash) into
status.json, events.jsonl, output.log and `check`'s output. Each is refused here
by the schema (so `check` says it) and again by the loaders.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fifo import make_fifo, returns_within
from pydantic import TypeAdapter

from dltui.checks import check_command, check_file
from dltui.cli import main
from dltui.data import DataError, describe, load_data
from dltui.spec.data import DataSpec

SECRET = "root:$6$Zq8vS3cr3tSa1t$kP0w9Xl2hashVALUEthatMUSTnotLEAK4711:19000:0:99999:7:::"
"""A line shaped like /etc/shadow's: no part of it longer than a short field may leak."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(DataSpec)


def unchecked(**fields: Any) -> Any:
    """A ``[data]`` table validated without looking at the disk, as a loader may get one."""
    return _ADAPTER.validate_python(fields, context={"skip_file_checks": True})


def checked(**fields: Any) -> Any:
    return _ADAPTER.validate_python(fields)


def longest_shared(text: str, secret: str = SECRET) -> int:
    """Length of the longest piece of ``secret`` that appears in ``text``."""
    matcher = difflib.SequenceMatcher(None, text, secret, autojunk=False)
    return matcher.find_longest_match(0, len(text), 0, len(secret)).size


SOURCES = {
    "csv": {"source": "csv", "target": "y"},
    "numpy": {"source": "numpy"},
    "text": {"source": "text"},
}


# ------------------------------------------------------------------ FIFOs and devices


@pytest.mark.parametrize("source", SOURCES)
def test_the_schema_refuses_a_fifo_and_a_device(tmp_path: Path, source: str) -> None:
    fifo = make_fifo(tmp_path / "data.npz")
    for path, kind in ((fifo, "a FIFO (named pipe)"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(ValueError, match="expected a regular file") as error:
            checked(path=path, **SOURCES[source])
        assert kind in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("source", SOURCES)
def test_loaders_refuse_a_fifo_without_blocking(tmp_path: Path, source: str) -> None:
    # The schema's check can be skipped (the builder's drafts) or outrun (the
    # path replaced after the check): the loaders check again, without opening.
    fifo = make_fifo(tmp_path / "data.npy")
    spec = unchecked(path=fifo, **SOURCES[source])
    if source == "numpy":
        spec = unchecked(path=fifo, targets=fifo, **SOURCES[source])
    with pytest.raises(DataError, match="not a regular file") as error:
        returns_within(lambda: describe(spec), fifo)
    assert error.value.file == str(fifo)


@pytest.mark.parametrize("source", SOURCES)
def test_loaders_refuse_dev_zero_at_once(tmp_path: Path, source: str) -> None:
    # Through a link named like data, as a typo or a hostile file could make it.
    zero = tmp_path / "zero.npy"
    zero.symlink_to("/dev/zero")
    fields = dict(SOURCES[source])
    if source == "numpy":
        fields["targets"] = zero
    with pytest.raises(DataError, match="not a regular file"):
        describe(unchecked(path=zero, **fields))


def test_image_folder_needs_a_folder_and_skips_fifos_inside(tmp_path: Path) -> None:
    from PIL import Image

    with pytest.raises(ValueError, match="expected a folder"):
        checked(source="image_folder", path=Path("/dev/zero"))
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / name / "0.png")
    make_fifo(tmp_path / "a" / "1.png")  # not a regular file: not an image either
    spec = checked(source="image_folder", path=tmp_path, split={"train": 0.5, "val": 0.5})
    fifo = tmp_path / "a" / "1.png"
    splits = returns_within(lambda: load_data(spec, seed=0), fifo)
    assert len(splits.train) + len(splits.val) == 2


@pytest.mark.slow
def test_the_trainer_refuses_a_fifo_data_path_instead_of_hanging(tmp_path: Path) -> None:
    make_fifo(tmp_path / "data.csv")
    exp = tmp_path / "fifo.toml"
    exp.write_text(
        '[data]\nsource = "csv"\npath = "data.csv"\ntarget = "y"\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 2\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "dltui", "run", str(exp), "--runs", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "data.path" in done.stderr and "FIFO" in done.stderr


def test_check_refuses_dev_zero_without_reading_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(["/dev/zero"]) == 2
    assert "not a regular file" in capsys.readouterr().out


# ------------------------------------------------------------------ size limits


def test_each_format_has_a_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dltui.data import tabular, text

    monkeypatch.setattr(tabular, "CSV_FILE_LIMIT", 100)
    monkeypatch.setattr(text, "TEXT_FILE_LIMIT", 100)
    big = tmp_path / "big.csv"
    big.write_text("a,y\n" + "1,0\n" * 100)
    with pytest.raises(DataError, match="larger than the 100 bytes"):
        describe(checked(source="csv", path=big, target="y"))
    with pytest.raises(DataError, match="larger than the 100 bytes"):
        describe(checked(source="text", path=big))


def test_a_numpy_header_may_not_declare_more_than_the_file_holds(tmp_path: Path) -> None:
    # A 128-byte header that promises 12 TB: refused before anything is allocated.
    path = tmp_path / "x.npy"
    path.write_bytes(_npy_with_shape((10**12, 3)))
    np.save(tmp_path / "t.npy", np.zeros(4))
    spec = checked(source="numpy", path=path, targets=tmp_path / "t.npy")
    with pytest.raises(DataError, match=r"declares .* GiB; the limit is 16 GiB"):
        describe(spec)
    path.write_bytes(_npy_with_shape((4, 3), body=b"\0" * 16))  # 48 bytes declared, 16 held
    with pytest.raises(DataError, match="declares 48 bytes of data but holds 16"):
        describe(spec)
    with pytest.raises(DataError, match="the file is truncated"):
        load_data(spec, seed=0)


def _npy_with_shape(shape: tuple[int, ...], body: bytes = b"") -> bytes:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header = header.ljust(118) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


# ------------------------------------------------------------------ no leaks


def shadow(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(f"{SECRET}\nbin:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    return path


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("shadow", {"source": "csv", "target": "y"}),
        ("shadow", {"source": "csv", "target": "y", "delimiter": ":"}),
        ("shadow", {"source": "csv", "target": "root", "delimiter": ":"}),
        ("shadow.npy", {"source": "numpy", "targets": "shadow.npy"}),
        ("shadow.npz", {"source": "numpy"}),
    ],
    ids=["csv", "csv-colon", "csv-colon-target", "npy", "npz"],
)
def test_an_error_about_a_file_quotes_no_line_of_it(
    tmp_path: Path, name: str, fields: dict[str, Any]
) -> None:
    path = shadow(tmp_path, name)
    if "targets" in fields:
        fields = {**fields, "targets": tmp_path / fields["targets"]}
    with pytest.raises(DataError) as error:
        describe(checked(path=path, **fields))
    message = str(error.value)
    assert str(path) in message
    assert longest_shared(message) <= 24, message


def test_numpy_messages_quote_nothing_of_a_crafted_header(tmp_path: Path) -> None:
    header = f"{{'descr': '{SECRET}', 'fortran_order': False, 'shape': (3,), }}".encode()
    path = tmp_path / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\n")
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as archive:
        archive.writestr("x.npy", path.read_bytes())
        archive.writestr("y.npy", path.read_bytes())
    np.save(tmp_path / "t.npy", np.zeros(3))
    for spec in (
        checked(source="numpy", path=path, targets=tmp_path / "t.npy"),
        checked(source="numpy", path=tmp_path / "d.npz"),
    ):
        with pytest.raises(DataError) as error:
            describe(spec)
        assert "damaged .npy header" in str(error.value)
        assert longest_shared(str(error.value)) <= 8


def test_a_bad_cell_is_quoted_short_and_printable(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"a,y\n1,0\n\x1b]2;{SECRET},1\n")
    with pytest.raises(DataError) as error:
        describe(checked(source="csv", path=path, target="y"))
    message = str(error.value)
    assert "line 3, column 1:" in message and "is not a number" in message
    assert "\x1b" not in message and "␛]2;" in message
    assert longest_shared(message) <= 24


@pytest.mark.slow
def test_nothing_of_the_file_reaches_the_run_or_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shadow(tmp_path, "shadow")
    exp = tmp_path / "leak.toml"
    exp.write_text(
        'name = "leak"\n[data]\nsource = "csv"\npath = "shadow"\ntarget = "y"\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 2\n',
        encoding="utf-8",
    )
    assert check_command([str(exp)]) == 2
    assert main(["run", str(exp), "--runs", str(tmp_path / "runs"), "--quiet"]) == 2
    printed = capsys.readouterr()
    assert longest_shared(printed.out + printed.err) <= 24
    (run,) = (tmp_path / "runs" / "leak").iterdir()
    for name in ("status.json", "events.jsonl", "output.log", "meta.json"):
        text = (run / name).read_text()
        assert longest_shared(text) <= 24, name
    assert "not look like a CSV" in json.loads((run / "status.json").read_text())["reason"]
    result = check_file(exp)
    assert result.problems[0].path == "data.path"
