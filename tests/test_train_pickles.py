"""No code in a checkpoint is ever run: every route a pickle payload can take is refused.

A ``.pt`` file is a pickle; loaded without ``weights_only=True`` it may run any
code. These are the six routes the hardening probe tried (issue 10, held).
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from test_train import SPIRALS, spirals, write

from dltui.cli import main


class Payload:
    """Pickles as a call of ``os.system``: what an attacker's checkpoint would hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def evil_checkpoint(path: Path, marker: Path, *, raw: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": {"layers.0.weight": torch.zeros(16, 2)}, "step": 1, "epoch": 1,
             "hook": Payload(marker)}  # fmt: skip
    if raw:
        path.write_bytes(pickle.dumps(state))
    else:
        torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trained")
    exp = spirals(folder, name="base", epochs=1)
    assert main(["run", str(exp), "--runs", str(folder / "runs"), "--quiet", "--name", "r"]) == 0
    return folder / "runs" / "base" / "r"


def init_from(tmp_path: Path, table: str) -> Path:
    text = SPIRALS.format(name="tuned", epochs=1, samples=200, extra="")
    text = text.replace("[[model.layers]]", f"[model]\ninit_from = {table}\n[[model.layers]]", 1)
    return write(tmp_path, text, "tuned.toml")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("route", ["file", "raw pickle", "run folder", "experiment"])
def test_init_from_refuses_a_pickle_payload(tmp_path: Path, route: str, capsys) -> None:
    marker = tmp_path / "pwned"
    runs = tmp_path / "runs"
    if route == "file":
        evil = evil_checkpoint(tmp_path / "evil.pt", marker)
        table = f'{{ path = "{evil}" }}'
    elif route == "raw pickle":
        evil = evil_checkpoint(tmp_path / "evil.pt", marker, raw=True)
        table = f'{{ path = "{evil}" }}'
    elif route == "run folder":
        evil = evil_checkpoint(tmp_path / "other" / "checkpoints" / "best.pt", marker)
        table = f'{{ path = "{tmp_path / "other"}" }}'
    else:
        evil = evil_checkpoint(runs / "base" / "r1" / "checkpoints" / "best.pt", marker)
        table = '{ experiment = "base" }'
    exp = init_from(tmp_path, table)
    capsys.readouterr()
    code = main(["run", str(exp), "--runs", str(runs), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert not marker.exists(), "the payload ran"
    assert str(evil) in err and "not a readable checkpoint" in err


@pytest.mark.slow
@pytest.mark.parametrize("which", ["last.pt", "best.pt"])
def test_resume_refuses_a_pickle_payload(tmp_path: Path, trained: Path, which: str, capsys):
    run = tmp_path / "runs" / "base" / "r"
    shutil.copytree(trained, run)
    marker = tmp_path / "pwned"
    evil = evil_checkpoint(run / "checkpoints" / which, marker)
    capsys.readouterr()
    code = main(["run", "--resume", str(run), "--runs", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert not marker.exists(), "the payload ran"
    assert str(evil) in err and "not a readable checkpoint" in err
