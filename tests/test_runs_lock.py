"""One writer per run: the run's lock, its release by the OS, and every way in refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_train import spirals
from textual.widgets import DataTable
from tui_runs import FROZEN_NOW, make_app, make_run, run_async, settle, write_experiment

from dltui.cli import main
from dltui.runs import (
    RunLock,
    RunLockedError,
    RunRemovalError,
    RunWriter,
    lock_holder,
    remove_run,
)
from dltui.runs.control import this_host
from dltui.tui import launcher
from dltui.tui.screens.browser import BrowserScreen


def test_a_second_writer_is_refused_naming_the_pid_and_host(tmp_path: Path) -> None:
    first = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    first.close("stopped")
    writer = RunWriter.open(first.run_dir, flush_interval=60.0)
    with pytest.raises(RunLockedError) as refused:
        RunWriter.open(first.run_dir, flush_interval=60.0)
    message = str(refused.value)
    assert "already running" in message
    assert f"pid {os.getpid()}" in message and this_host() in message
    assert refused.value.holder.pid == os.getpid()
    holder = lock_holder(first.run_dir)
    assert holder is not None and holder.pid == os.getpid() and holder.host == this_host()
    writer.close()
    assert lock_holder(first.run_dir) is None
    RunWriter.open(first.run_dir, flush_interval=60.0).close()  # free again once closed


def test_create_into_a_folder_another_writer_holds_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "exp" / "r"
    folder.mkdir(parents=True)
    lock = RunLock.acquire(folder)
    try:
        with pytest.raises(RunLockedError):
            RunWriter.create(tmp_path, "exp", run_dir=folder)
        assert not (folder / "meta.json").exists()
    finally:
        lock.release()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from dltui.runs import RunWriter
    w = RunWriter.open(sys.argv[1], flush_interval=60.0)
    print("locked", flush=True)
    time.sleep(60)
    """
)


def test_the_os_releases_the_lock_when_the_writer_is_killed(tmp_path: Path) -> None:
    RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0).close("stopped")
    run_dir = tmp_path / "exp" / "r"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "locked"
        holder = lock_holder(run_dir)
        assert holder is not None and holder.pid == process.pid
        with pytest.raises(RunLockedError, match=f"pid {process.pid}"):
            RunWriter.open(run_dir, flush_interval=60.0)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert lock_holder(run_dir) is None
    RunWriter.open(run_dir, flush_interval=60.0).close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_keep_the_lock(tmp_path: Path) -> None:
    # Data loader workers are forked from the trainer; the lock must die with the writer.
    writer = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only sleeps
        time.sleep(3)
        os._exit(0)
    try:
        writer.close()
        assert lock_holder(writer.run_dir) is None
        RunWriter.open(writer.run_dir, flush_interval=60.0).close()
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_releasing_frees_the_lock_while_a_copy_of_its_file_is_still_open(tmp_path: Path) -> None:
    # A forked child closes its inherited copy only once it is scheduled; until then
    # the copy shares the lock, so releasing must unlock, not merely close (CI saw this).
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    lock = RunLock.acquire(run_dir)
    copy = os.dup(lock._fd)  # type: ignore[arg-type]
    try:
        lock.release()
        assert lock_holder(run_dir) is None
        RunLock.acquire(run_dir).release()
    finally:
        os.close(copy)


def test_a_locked_run_is_not_removed(tmp_path: Path) -> None:
    RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0).close("stopped")
    run_dir = tmp_path / "exp" / "r"
    # A writer that looks dead (stopped with SIGSTOP: no heartbeat) still owns its run.
    lock = RunLock.acquire(run_dir)
    try:
        with pytest.raises(RunRemovalError, match="being written by pid"):
            remove_run(run_dir)
    finally:
        lock.release()
    remove_run(run_dir)


@pytest.mark.slow
def test_dltui_run_resume_of_a_run_being_written_exits_4_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = spirals(tmp_path, epochs=1)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "r"]) == 0
    run_dir = root / "tiny" / "r"
    sizes = {name: (run_dir / name).stat().st_size for name in ("events.jsonl", "scalars.bin")}
    status = (run_dir / "status.json").read_bytes()
    capsys.readouterr()
    lock = RunLock.acquire(run_dir)  # another process training it now
    try:
        assert main(["run", "--resume", str(run_dir), "--runs", str(root), "--quiet"]) == 4
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "already running" in err and f"pid {os.getpid()}" in err and this_host() in err
    assert "Traceback" not in err
    assert {name: (run_dir / name).stat().st_size for name in sizes} == sizes
    assert (run_dir / "status.json").read_bytes() == status


def test_the_launcher_refuses_to_resume_a_run_being_written(tmp_path: Path) -> None:
    RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0).close("stopped")
    run_dir = tmp_path / "exp" / "r"
    lock = RunLock.acquire(run_dir)
    try:
        with pytest.raises(launcher.AlreadyRunning, match=r"already running: pid \d+ on "):
            launcher.resume(run_dir, tmp_path)
    finally:
        lock.release()
    assert not (run_dir / "output.log").exists()  # nothing was started


@run_async
async def test_r_in_a_second_dashboard_says_already_running(tmp_path: Path) -> None:
    write_experiment(tmp_path / "experiments", "spirals")
    (tmp_path / "themes").mkdir()
    run_dir = make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa", epochs=1,
                       created=FROZEN_NOW - 600, state="stopped")  # fmt: skip
    assert isinstance(run_dir, Path)
    lock = RunLock.acquire(run_dir)  # the first dashboard's trainer
    app = make_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
            screen = app.screen
            assert isinstance(screen, BrowserScreen)
            table = screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(f"run:{run_dir}"))
            await pilot.press("R")
            await settle(
                pilot, lambda: any("already running" in n.message for n in app._notifications)
            )
            (note,) = [n for n in app._notifications if "already running" in n.message]
    finally:
        lock.release()
    # Information, not an error: the run trains, in another process, named with its host.
    assert note.title == "Already running" and note.severity == "information"
    assert f"pid {os.getpid()} on {this_host()}" in note.message
    assert not app.launched
