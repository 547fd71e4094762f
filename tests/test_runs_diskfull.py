"""A full disk mid-run: one clear line, status failed, the last checkpoint intact,
no temporary files left, no torn event log.

Simulated in-process (an OSError(ENOSPC) from the write path), and, where this
test may mount a 4 MiB tmpfs (root), on a really full filesystem.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from test_train import SPIRALS, write

import dltui.runs.files
import dltui.runs.flusher
import dltui.train.checkpoint
from dltui.cli import main
from dltui.runs import RunReader, RunWriteError, RunWriter, discover_runs
from dltui.runs.files import write_json_atomic
from dltui.train.checkpoint import save_checkpoint

NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def test_a_failed_append_is_cut_back_kept_and_raised_from_the_next_record(tmp_path, monkeypatch):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    w.scalars({"a": 1.0}, 1)
    w.event("log", message="before")
    w.flush()
    events = w.run_dir / "events.jsonl"
    size = events.stat().st_size
    real = dltui.runs.flusher.write_all

    def half_then_full(fd: int, data: Any) -> None:
        os.write(fd, bytes(data[: len(data) // 2]))  # part of it lands, then the disk is full
        raise NO_SPACE

    monkeypatch.setattr(dltui.runs.flusher, "write_all", half_then_full)
    w.event("log", message="during")
    w.scalars({"a": 2.0}, 2)
    with pytest.raises(RunWriteError, match=r"no space left on device writing events\.jsonl"):
        w.flush()
    assert events.stat().st_size == size  # cut back: the log does not end torn
    assert events.read_bytes().endswith(b"\n")
    with pytest.raises(RunWriteError, match=r"no space left on device writing events\.jsonl"):
        w.scalar("a", 3.0, 3)  # training stops instead of going on unrecorded
    with pytest.raises(RunWriteError):
        w.event("log", message="lost")
    monkeypatch.setattr(dltui.runs.flusher, "write_all", real)  # space again
    w.flush()
    assert w.error is None
    w.close()
    reader = RunReader(w.run_dir)
    assert reader.series("a").value.tolist() == [1.0, 2.0]  # nothing kept was lost
    assert [e["message"] for e in reader.events_of("log")] == ["before", "during"]
    assert reader.bad_lines == 0


def test_a_failed_status_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    write_json_atomic(target, {"status": "running"})

    def full(fd: int, data: Any) -> None:
        os.write(fd, bytes(data[:3]))
        raise NO_SPACE

    monkeypatch.setattr(dltui.runs.files, "write_all", full)
    with pytest.raises(RunWriteError, match=r"no space left on device writing status\.json"):
        write_json_atomic(target, {"status": "failed"})
    assert json.loads(target.read_text()) == {"status": "running"}
    assert temporaries(tmp_path) == []


class _FullAfter:
    """A file that takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, handle: Any, room: int) -> None:
        self.handle = handle
        self.room = room

    def write(self, data: Any) -> int:
        if len(data) > self.room:
            self.handle.write(bytes(data[: self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self.handle.write(data))

    def flush(self) -> None:
        self.handle.flush()

    def __enter__(self) -> _FullAfter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def fill_checkpoints_after(monkeypatch: pytest.MonkeyPatch, good: int) -> None:
    """The disk fills up during the checkpoint write after ``good`` successful ones."""
    real = os.fdopen
    writes = {"n": 0}

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real(fd, mode, *args, **kwargs)
        if mode != "wb":
            return handle
        writes["n"] += 1
        return handle if writes["n"] <= good else _FullAfter(handle, 1000)

    monkeypatch.setattr(dltui.train.checkpoint.os, "fdopen", fdopen)


def test_a_checkpoint_that_does_not_fit_keeps_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.pt"
    save_checkpoint(path, {"step": 1, "model": {"w": torch.ones(3)}})
    fill_checkpoints_after(monkeypatch, good=0)
    with pytest.raises(RunWriteError) as failed:
        save_checkpoint(path, {"step": 2, "model": {"w": torch.zeros(100_000)}})
    assert str(failed.value) == "no space left on device writing checkpoints/last.pt"
    assert failed.value.errno == errno.ENOSPC
    assert torch.load(path, weights_only=True)["step"] == 1
    assert temporaries(tmp_path) == []


def full_disk_experiment(tmp_path: Path, samples: int = 200) -> Path:
    text = SPIRALS.format(name="full", epochs=50, samples=samples, extra="")
    text = text.replace(
        "split = { train = 0.6, val = 0.2, test = 0.2 }",
        "split = { train = 1.0, val = 0.0, test = 0.0 }",
    )
    return write(tmp_path, text, "full.toml")


def assert_failed_cleanly(run: Path, err: str, code: int) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert lines == ["dltui run: no space left on device writing checkpoints/last.pt"], err
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed"
    assert status["reason"] == "no space left on device writing checkpoints/last.pt"
    assert temporaries(run) == []
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] >= 1  # the last good checkpoint, intact
    assert (run / "events.jsonl").read_bytes().endswith(b"\n")
    reader = RunReader(run)
    assert reader.bad_lines == 0 and reader.status.status == "failed"
    (info,) = discover_runs(run.parent.parent)
    assert info.state == "failed"


@pytest.mark.slow
def test_dltui_run_on_a_disk_that_fills_up_fails_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dltui.train.checkpoint, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(dltui.train.checkpoint, "CHECKPOINT_COST_RATIO", 0.0)
    fill_checkpoints_after(monkeypatch, good=2)
    exp = full_disk_experiment(tmp_path)
    root = tmp_path / "runs"
    code = main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "r"])
    assert_failed_cleanly(root / "full" / "r", capsys.readouterr().err, code)


# -- a real full filesystem ----------------------------------------------------------------

TRAIN = textwrap.dedent(
    """
    import sys
    import dltui.train.checkpoint as policy
    policy.CHECKPOINT_INTERVAL = 0.0  # last.pt every epoch: the next write is the one that fails
    policy.CHECKPOINT_COST_RATIO = 0.0
    from dltui.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


@pytest.mark.slow
def test_a_really_full_filesystem_mid_run(tmp_path: Path, small_disk: Path) -> None:
    exp = full_disk_experiment(tmp_path, samples=3000)
    run = small_disk / "runs" / "full" / "r"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", TRAIN, "run", str(exp), "--run-dir", str(run)]
    process = subprocess.Popen(
        [*command, "--quiet", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (run / "checkpoints" / "last.pt").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        # Fill the disk, leaving room for the log and status.json but not a checkpoint.
        size = (run / "checkpoints" / "last.pt").stat().st_size
        assert size > 32 * 1024
        (small_disk / "filler").write_bytes(b"\0" * (free_bytes(small_disk) - 16 * 1024))
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_failed_cleanly(run, err, process.returncode)
