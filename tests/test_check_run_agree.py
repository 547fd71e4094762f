"""`dltui check` and `dltui run` accept and refuse the same files: one validation, in the schema.

Names become folders (``runs/<name>/<run-id>/``) and ``init_from`` paths are opened
by the trainer; whatever `run` would refuse, `check` (and so the builder and the
browser) must refuse first, naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dltui.checks import check_file
from dltui.cli import main
from dltui.runs.layout import check_name

BODY = """
[data]
source = "xor"
samples = 32
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = 1
"""

BAD_NAMES = {
    "newline": "ok\\nline",
    "backslash": "a\\\\b",
    "nul": "a\\u0000b",
    "slash": "a/b",
    "dot": "..",
    "escape": "\\u001b]2;title\\u0007",
    "tab": "a\\tb",
    "blank": "   ",
    "padded": " a",
    "bidi": "abc\\u202edcba",
    "long": "x" * 200,
}


def experiment(tmp_path: Path, header: str, file: str = "exp.toml") -> Path:
    path = tmp_path / file
    path.write_text(header + BODY, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_name_check_accepts_is_one_run_can_use(tmp_path: Path, name: str) -> None:
    path = experiment(tmp_path, f'name = "{name}"\n')
    result = check_file(path, shapes=False)
    assert not result.ok
    (problem,) = result.problems
    assert problem.path == "name" and problem.file == str(path) and problem.line == 1
    # The trainer refuses it the same way, before creating any folder.
    runs = tmp_path / "runs"
    assert main(["run", str(path), "--runs", str(runs), "--quiet"]) == 2
    assert not runs.exists()


def test_a_newline_in_a_name_never_becomes_a_folder(tmp_path: Path) -> None:
    # It used to pass and create runs/ok\nline/.
    path = experiment(tmp_path, 'name = "ok\\nline"\n')
    assert main(["run", str(path), "--runs", str(tmp_path / "runs"), "--quiet"]) == 2
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("run_id", ["ok\nline", "a\\b", "a\0b", ".hidden", "a\x1b[2Jb"])
def test_the_run_writer_applies_the_same_rule(run_id: str) -> None:
    from dltui.names import name_problem

    assert name_problem(run_id) is not None
    with pytest.raises(ValueError, match="cannot be a folder name"):
        check_name(run_id, "run_id")


@pytest.mark.slow
def test_run_name_on_the_command_line_is_checked_too(tmp_path: Path) -> None:
    path = experiment(tmp_path, 'name = "fine"\n')
    runs = tmp_path / "runs"
    assert main(["run", str(path), "--runs", str(runs), "--quiet", "--name", "a\nb"]) == 2
    assert not (runs / "fine" / "a\nb").exists()


def test_a_file_name_that_cannot_name_the_run_folder(tmp_path: Path) -> None:
    # Without `name`, runs go in runs/<file stem>/.
    path = experiment(tmp_path, "", file=".hidden.toml")
    result = check_file(path, shapes=False)
    assert not result.ok and result.problems[0].path == "name"
    assert "set name" in result.problems[0].message
    assert main(["run", str(path), "--runs", str(tmp_path / "runs"), "--quiet"]) == 2


def test_good_names_pass() -> None:
    from dltui.names import name_problem

    for name in ("mlp-spirals", "résumé v2", "cnn_digits.2026", "数字"):
        assert name_problem(name) is None, name


def test_init_from_that_does_not_exist_is_refused_by_check(tmp_path: Path) -> None:
    header = '[model]\ninit_from = "nowhere/best.pt"\n'
    path = experiment(tmp_path, "").with_name("x.toml")
    path.write_text(BODY.replace("[[model.layers]]", header + "[[model.layers]]"), "utf-8")
    result = check_file(path, shapes=False)
    assert not result.ok
    (problem,) = result.problems
    assert problem.path == "model.init_from.path" and problem.line is not None
    assert "no such file or folder" in problem.message
    assert main(["run", str(path), "--runs", str(tmp_path / "runs"), "--quiet"]) == 2


def test_init_from_a_run_folder_needs_its_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "pre" / "r1"
    (run / "checkpoints").mkdir(parents=True)
    text = BODY.replace(
        "[[model.layers]]", f'[model.init_from]\npath = "{run}"\n\n[[model.layers]]', 1
    )
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    result = check_file(path, shapes=False)
    assert not result.ok and "checkpoints/best.pt" in result.problems[0].message
    (run / "checkpoints" / "best.pt").write_bytes(b"")
    assert check_file(path, shapes=False).ok
    assert check_file(path.with_name("missing.toml"), shapes=False).problems[0].file


def test_init_from_experiment_is_one_folder_name(tmp_path: Path) -> None:
    text = BODY.replace(
        "[[model.layers]]", '[model.init_from]\nexperiment = "../../etc"\n\n[[model.layers]]', 1
    )
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    result = check_file(path, shapes=False)
    assert [p.path for p in result.problems] == ["model.init_from.experiment"]
