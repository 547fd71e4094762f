"""`dltui run` as a real process: SIGTERM mid-epoch, and DDP on two CPU processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dltui.runs import RunReader

LONG = """
name = "long"
[data]
source = "spirals"
samples = 1500
batch_size = 8
[[model.layers]]
type = "dense"
out_features = 64
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = {epochs}
log_every = 5
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.mark.slow
def test_sigterm_stops_with_checkpoint_and_complete_log(tmp_path: Path) -> None:
    exp = tmp_path / "long.toml"
    exp.write_text(LONG.format(epochs=1000), encoding="utf-8")
    run_dir = tmp_path / "runs" / "long" / "r1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dltui", "run", str(exp), "--run-dir", str(run_dir), "--quiet"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until the loop is inside an epoch (the second one: a last.pt exists) and logging.
        while time.monotonic() < deadline:
            if (run_dir / "checkpoints" / "last.pt").exists():
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "stopped" and "SIGTERM" in status["reason"]
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["step_in_epoch"] > 0  # written mid-epoch, after the step in flight
    r = RunReader(run_dir)
    r.poll()
    assert r.events[-1]["kind"] == "status" and r.events[-1]["status"] == "stopped"
    assert len(r.series("train/loss")) > 0
    # Every line of the log is complete JSON.
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        json.loads(line)


@pytest.mark.slow
def test_ddp_two_cpu_processes_record_once(tmp_path: Path) -> None:
    exp = tmp_path / "ddp.toml"
    exp.write_text(
        LONG.format(epochs=2)
        .replace("samples = 1500", "samples = 400")
        .replace('name = "long"', 'name = "ddp"'),
        encoding="utf-8",
    )
    root = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "dltui",
        "run",
        str(exp),
        "--runs",
        str(root),
        "--quiet",
    ]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = list((root / "ddp").iterdir())
    assert len(runs) == 1
    r = RunReader(runs[0])
    r.poll()
    assert r.status.status == "finished"
    assert [e["epoch"] for e in r.events_of("epoch")] == [1, 2]
    assert r.latest("distributed")["world_size"] == 2  # type: ignore[index]
    # 320 training samples, 160 per rank, batch 8 -> 20 steps per epoch.
    assert torch.load(runs[0] / "checkpoints" / "last.pt", weights_only=True)["step"] == 40
    assert len(r.events_of("model")) == 1
