"""Killed writers, heartbeats, liveness and stop requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from dltui.runs import (
    HEARTBEAT_TIMEOUT,
    RunReader,
    RunWriter,
    clear_stop,
    is_pid_alive,
    request_stop,
    run_status,
    stop_requested,
)
from dltui.runs.control import this_host

WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from dltui.runs import RunWriter

    w = RunWriter.create(sys.argv[1], "killed", run_id="r", flush_interval=0.01)
    w.status("running")
    step = 0
    while True:
        w.scalars({"train/loss": 1.0 / (step + 1), "lr": 0.1}, step, epoch=step / 1000)
        if step % 500 == 0:
            w.event("log", level="info", message="x" * 200, step=step)
        if step == 5_000:
            print("ready", flush=True)
        step += 1
    """
)


def test_killed_writer_leaves_a_readable_run_that_is_dead(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        run_dir = tmp_path / "killed" / "r"
        reader = RunReader(run_dir)
        assert reader.status.state == "running" and reader.status.pid == process.pid
        # Killed mid-stream once enough has reached the disk (a loaded machine writes
        # slower, so wait for the records, not for a fixed time).
        scalars = run_dir / "scalars.bin"
        deadline = time.monotonic() + 30
        while scalars.stat().st_size < 2 * 5_001 * 32 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()  # reaped: the pid is gone
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.poll()
    loss = reader.series("train/loss")
    assert len(loss) > 5_000
    # Whatever reached the disk is complete and in order, with no torn record inside.
    np.testing.assert_array_equal(loss.step, np.arange(len(loss)))
    np.testing.assert_allclose(loss.value, 1.0 / (np.arange(len(loss)) + 1))
    assert len(reader.series("lr")) in (len(loss), len(loss) - 1)
    assert reader.bad_lines == 0 and reader.offsets.scalars % 32 == 0
    status = reader.status
    assert status.state == "dead" and not status.alive and status.status == "running"
    assert str(process.pid) in (status.reason or "")

    resumed = RunWriter.open(run_dir, flush_interval=60.0)
    resumed.scalar("train/loss", 0.0, len(loss))
    resumed.close()
    again = RunReader(run_dir)
    assert len(again.series("train/loss")) == len(loss) + 1 and again.bad_lines == 0
    assert again.status.state == "finished"


def test_a_killed_writer_is_seen_dead_by_a_following_reader_within_half_a_second(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        reader = RunReader(tmp_path / "killed" / "r")
        assert reader.status.state == "running"
        reader.poll()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        # The follower polls ten times a second; the pid is checked every 0.5 s of those.
        time.sleep(0.5)
        changes = reader.poll()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert changes.status and reader.status.state == "dead"


def test_writer_heartbeats_in_the_background(tmp_path):
    w = RunWriter.create(tmp_path, "exp", flush_interval=0.01, heartbeat_interval=0.05)
    first = json.loads((w.run_dir / "status.json").read_text())["heartbeat"]
    deadline = time.time() + 5
    latest = first
    while latest == first and time.time() < deadline:
        time.sleep(0.02)
        latest = json.loads((w.run_dir / "status.json").read_text())["heartbeat"]
    assert latest > first
    w.heartbeat(step=12, epoch=0.5)
    w.close()
    status = json.loads((w.run_dir / "status.json").read_text())
    assert status["status"] == "finished" and status["step"] == 12 and status["epoch"] == 0.5


def test_status_liveness_rules():
    now = time.time()
    mine = {"status": "running", "pid": os.getpid(), "host": this_host(), "heartbeat": now}
    assert run_status(mine, now=now).state == "running"
    stale = run_status({**mine, "heartbeat": now - HEARTBEAT_TIMEOUT - 1}, now=now)
    assert stale.state == "dead" and "no heartbeat" in (stale.reason or "")
    elsewhere = {**mine, "host": "some-other-host", "pid": 2**22 + 12345}
    assert run_status(elsewhere, now=now).state == "running"  # cannot check a remote pid
    finished = run_status({**mine, "status": "finished", "heartbeat": now - 3600}, now=now)
    assert finished.state == "finished"  # only active runs can die
    # No status.json yet: starting since meta's creation, dead if nothing follows.
    meta = {"created": now - 1, "pid": os.getpid(), "host": this_host()}
    assert run_status(None, meta, now=now).state == "starting"
    assert run_status(None, {**meta, "created": now - 60}, now=now).state == "dead"
    assert run_status(None, None, now=now).status == "unknown"


def test_is_pid_alive_for_live_reaped_and_zombie_processes():
    assert is_pid_alive(os.getpid())
    assert not is_pid_alive(None) and not is_pid_alive(-1) and not is_pid_alive(0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 10
    while time.time() < deadline:  # exited but not reaped: a zombie
        try:
            with open(f"/proc/{child.pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.01)
    assert not is_pid_alive(child.pid)
    child.wait()
    assert not is_pid_alive(child.pid)


def test_stop_request_round_trip(tmp_path):
    w = RunWriter.create(tmp_path, "exp", flush_interval=60.0)
    assert not stop_requested(w.run_dir)
    path = request_stop(w.run_dir, reason="from the dashboard")
    assert stop_requested(w.run_dir) and path.name == "stop"
    assert json.loads(path.read_text())["reason"] == "from the dashboard"
    assert clear_stop(w.run_dir) and not stop_requested(w.run_dir)
    assert not clear_stop(w.run_dir)
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        request_stop(tmp_path / "missing")
    w.close()
