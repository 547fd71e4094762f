"""Run folders that are broken, deeply nested, looped, linked, copied or huge.

Each reproduces a break the hardening probe found (issue 10): the reader,
discovery, resume and the dashboard's catalog keep working and name the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest
from test_train import spirals
from tui_runs import FROZEN_NOW, make_app, make_run, run_async, settle, write_experiment

from dltui.cli import main
from dltui.runs import (
    RunFileError,
    RunReader,
    RunWriter,
    discover_runs,
    read_run_info,
    scan_runs,
)
from dltui.runs.discovery import LAUNCH_GRACE_S
from dltui.tui import launcher
from dltui.tui.catalog import load_catalog
from dltui.tui.messages import DirectoryChanged
from dltui.tui.screens.browser import BrowserScreen

DEEP = b"[" * 200_000


def finished_run(root: Path, experiment: str = "exp", run_id: str = "r") -> Path:
    """A finished run in ``root/experiment/run_id``. dltui never names a folder with
    control characters, so a hostile ``run_id`` is a folder renamed by someone else."""
    w = RunWriter.create(root, experiment, run_id="plain", flush_interval=60.0)
    w.status("running")
    for step in range(1, 11):
        w.scalars({"train/loss": 1.0 / step}, step)
    w.event("epoch", epoch=1, step=10)
    w.close()
    if run_id == "plain":
        return w.run_dir
    return w.run_dir.rename(w.run_dir.with_name(run_id))


# -- 10.3: a run that cannot be read is listed, broken, with the reason ---------------------


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("meta.json", b"{not json", "not valid JSON"),
        ("meta.json", b"[1, 2]", "expected a JSON object"),
        ("meta.json", b"", "not valid JSON"),
        ("meta.json", b"\xff\xfe garbage", "meta.json"),
        ("status.json", b'"running"', "expected a JSON object"),
        ("status.json", b"{", "not valid JSON"),
    ],
)
def test_a_run_with_an_unreadable_file_is_listed_as_broken(tmp_path, name, content, why):
    finished_run(tmp_path, run_id="good")
    bad = finished_run(tmp_path, run_id="bad")
    (bad / name).write_bytes(content)
    runs = {run.run_id: run for run in discover_runs(tmp_path)}
    assert set(runs) == {"good", "bad"}
    assert runs["good"].state == "finished"
    assert runs["bad"].state == "broken" and runs["bad"].broken and not runs["bad"].alive
    assert name in runs["bad"].reason and why in runs["bad"].reason


def test_an_unreadable_meta_json_is_listed_as_broken(tmp_path):
    run = finished_run(tmp_path)
    (run / "meta.json").chmod(0)
    try:
        if os.access(run / "meta.json", os.R_OK):
            pytest.skip("running as a user who can read anything (root)")
        (info,) = discover_runs(tmp_path)
        assert info.state == "broken" and "meta.json" in info.reason
    finally:
        (run / "meta.json").chmod(0o644)


def test_a_folder_that_never_got_a_meta_json_is_listed_once_it_is_old(tmp_path):
    folder = tmp_path / "exp" / "launched"
    folder.mkdir(parents=True)
    (folder / "output.log").write_text("dltui run: data.path: no such file\n")
    assert discover_runs(tmp_path) == []  # just launched: its trainer is starting
    later = time.time() + LAUNCH_GRACE_S + 1
    (run,) = scan_runs(tmp_path, now=later).runs
    assert run.state == "broken" and run.run_id == "launched" and run.experiment == "exp"
    assert "no meta.json" in run.reason and "output.log" in run.reason


def test_a_broken_reason_is_shown_as_text(tmp_path):
    run = finished_run(tmp_path, run_id="r\x1b]2;pwned\x07")
    (run / "meta.json").write_bytes(b"\x1b[2J\x1b[H{")
    (info,) = discover_runs(tmp_path)
    assert "\x1b" not in info.reason and "\x07" not in info.run_id and "\x1b" not in info.run_id
    assert info.path == run  # the real folder, for opening and deleting


# -- 10.4: 200,000 '[' as a run file -------------------------------------------------------


@pytest.mark.parametrize("name", ["meta.json", "status.json"])
def test_deeply_nested_meta_or_status_makes_the_run_broken_not_a_recursion_error(tmp_path, name):
    run = finished_run(tmp_path)
    (run / name).write_bytes(DEEP)
    (info,) = discover_runs(tmp_path)
    assert info.state == "broken" and name in info.reason and "nested" in info.reason
    reader = RunReader(run)
    assert any(name in problem and "nested" in problem for problem in reader.problems)


def test_a_deeply_nested_event_line_is_skipped_and_counted(tmp_path):
    run = finished_run(tmp_path)
    with open(run / "events.jsonl", "ab") as log:
        log.write(DEEP + b"\n")
        log.write(b'{"kind": "log", "time": 1.0, "level": "info", "message": "after"}\n')
    reader = RunReader(run)
    assert reader.bad_lines == 1
    assert any("events.jsonl" in p and "nested too deeply" in p for p in reader.problems)
    assert reader.latest("log")["message"] == "after"  # type: ignore[index]
    assert len(reader.series("train/loss")) == 10
    discover_runs(tmp_path)  # and the log's tail is read too
    resumed = RunWriter.open(run, flush_interval=60.0)  # its tag table is read past it
    resumed.scalar("train/loss", 0.0, 11)
    resumed.close()
    assert len(RunReader(run).series("train/loss")) == 11


@pytest.mark.slow
def test_dltui_run_resume_of_a_deeply_nested_meta_json_is_refused_with_its_name(
    tmp_path, capsys: pytest.CaptureFixture[str]
):
    exp = spirals(tmp_path, epochs=1)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "r"]) == 0
    run = root / "tiny" / "r"
    (run / "meta.json").write_bytes(DEEP)
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--runs", str(root), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "meta.json" in err and "nested" in err and "Traceback" not in err


def test_the_catalog_keeps_listing_runs_beside_hostile_ones(tmp_path):
    for name, content in (("meta.json", DEEP), ("status.json", DEEP), ("events.jsonl", DEEP)):
        (finished_run(tmp_path / "runs", run_id=name.split(".")[0]) / name).write_bytes(content)
    catalog = load_catalog(tmp_path / "experiments", tmp_path / "runs")
    assert len(catalog.runs) == 3
    assert sorted(run.state for run in catalog.runs) == ["broken", "broken", "finished"]


@run_async
async def test_a_new_run_still_appears_in_the_dashboard_beside_a_hostile_one(tmp_path):
    write_experiment(tmp_path / "experiments", "spirals")
    (tmp_path / "themes").mkdir()
    runs = tmp_path / "runs"
    hostile = make_run(runs, "spirals", "20260101-000000-aaaa", epochs=1, created=FROZEN_NOW - 60)
    assert isinstance(hostile, Path)
    (hostile / "meta.json").write_bytes(DEEP)
    (hostile / "events.jsonl").write_bytes(DEEP + b"\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "catalog", None) is not None)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        assert [run.state for run in screen.catalog.runs] == ["broken"]
        fresh = make_run(runs, "spirals", "20260101-010000-bbbb", epochs=1,
                         created=FROZEN_NOW - 30)  # fmt: skip
        screen.post_message(DirectoryChanged("runs", runs, frozenset({Path(fresh)})))
        await settle(pilot, lambda: len(screen.catalog.runs) == 2)
        assert {run.run_id: run.state for run in screen.catalog.runs} == {
            "20260101-000000-aaaa": "broken",
            "20260101-010000-bbbb": "finished",
        }
        table_text = "\n".join(str(row) for row in screen.query_one("DataTable").ordered_rows)
        assert table_text  # the table was filled
        # The broken run's row says so; its details give the reason as text.
        from textual.widgets import DataTable, Static

        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(f"run:{hostile}"))
        await pilot.pause()
        assert str(table.get_row_at(table.cursor_row)[1]) == "broken"
        details = str(screen.query_one("#details-body", Static).render())
        unwrapped = re.sub(r"\n +", "", details)  # the reason is wrapped to fit the pane
        assert "broken" in details and "nested" in unwrapped and "meta.json" in unwrapped


# -- 10.5: symbolic link loops under runs/ --------------------------------------------------


def test_symlink_loops_under_runs_are_skipped_and_reported(tmp_path):
    finished_run(tmp_path, "exp", "r")
    os.symlink("self", tmp_path / "exp" / "self")  # a link to itself: ELOOP
    os.symlink(".", tmp_path / "exp" / "loop")  # the experiment folder again
    os.symlink("..", tmp_path / "exp" / "up")  # the runs folder again
    os.symlink("missing", tmp_path / "exp" / "dangling")
    os.symlink("selfish", tmp_path / "selfish")  # at the experiment level too
    scan = scan_runs(tmp_path)
    assert [run.run_id for run in scan.runs] == ["r"]
    reasons = {skip.path.name: skip.reason for skip in scan.skipped}
    assert set(reasons) == {"self", "loop", "up", "dangling", "selfish"}
    assert "symbolic links" in reasons["self"]  # "Too many levels of symbolic links"
    assert "already listed" in reasons["loop"] and "already listed" in reasons["up"]


def test_a_linked_experiment_folder_is_followed(tmp_path):
    elsewhere = tmp_path / "scratch"
    finished_run(elsewhere, "big", "r")
    runs = tmp_path / "runs"
    runs.mkdir()
    os.symlink(elsewhere / "big", runs / "big")
    (run,) = discover_runs(runs)
    assert run.experiment == "big" and run.state == "finished"


# -- 10.9: resume never follows a link inside a run -----------------------------------------


@pytest.mark.parametrize("name", ["scalars.bin", "events.jsonl", "output.log", "status.json"])
def test_resume_refuses_a_run_whose_files_are_links(tmp_path, name):
    run = finished_run(tmp_path / "runs")
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"do not touch" * 3)  # 36 bytes: not a whole number of records
    target = run / name
    if target.exists():
        target.unlink()
    os.symlink(outside, target)
    with pytest.raises(RunFileError, match=f"{name} is a symbolic link"):
        RunWriter.open(run, flush_interval=60.0)
    assert outside.read_bytes() == b"do not touch" * 3
    if name == "output.log":
        with pytest.raises(launcher.LaunchError, match="symbolic link"):
            launcher.resume(run, tmp_path / "runs")
        assert outside.read_bytes() == b"do not touch" * 3


@pytest.mark.slow
def test_dltui_run_resume_refuses_linked_files(tmp_path, capsys: pytest.CaptureFixture[str]):
    exp = spirals(tmp_path, epochs=1)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "r"]) == 0
    run = root / "tiny" / "r"
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x" * 40)
    (run / "scalars.bin").unlink()
    os.symlink(outside, run / "scalars.bin")
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--runs", str(root), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "scalars.bin is a symbolic link" in err and "Traceback" not in err
    assert outside.read_bytes() == b"x" * 40


def test_a_writer_replaces_a_planted_temporary_link_instead_of_following_it(tmp_path):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    outside = tmp_path / "victim"
    outside.write_text("keep")
    os.symlink(outside, w.run_dir / f".status.json.{os.getpid()}.tmp")
    w.status("running")
    w.close()
    assert outside.read_text() == "keep"
    assert json.loads((w.run_dir / "status.json").read_text())["status"] == "finished"
    assert not any(p.name.endswith(".tmp") for p in w.run_dir.iterdir())


# -- 10.13: folder names label runs; a huge torn line is read once -------------------------


def test_a_copied_run_is_listed_under_its_own_folder_name(tmp_path):
    original = finished_run(tmp_path, "exp", "20260101-000000-aaaa")
    shutil.copytree(original, tmp_path / "exp" / "copy-of-aaaa")
    shutil.copytree(original, tmp_path / "other" / "moved")
    runs = sorted((run.experiment, run.run_id) for run in discover_runs(tmp_path))
    assert runs == [("exp", "20260101-000000-aaaa"), ("exp", "copy-of-aaaa"), ("other", "moved")]
    assert read_run_info(tmp_path / "exp" / "copy-of-aaaa").run_id == "copy-of-aaaa"
    assert RunWriter.open(tmp_path / "exp" / "copy-of-aaaa").run_id == "copy-of-aaaa"


def _bytes_read() -> int | None:
    try:
        with open("/proc/self/io", "rb") as handle:
            for line in handle:
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def test_a_huge_torn_last_line_is_not_read_again_on_every_poll(tmp_path):
    if _bytes_read() is None:
        pytest.skip("needs /proc/self/io")
    run = finished_run(tmp_path)
    with open(run / "events.jsonl", "ab") as log:
        log.write(b'{"kind": "log", "message": "' + b"x" * 30_000_000)  # torn: no newline
    reader = RunReader(run)
    before = _bytes_read()
    for _ in range(5):
        reader.poll()
    assert before is not None
    polled = _bytes_read() - before  # type: ignore[operator]
    assert polled < 1_000_000, f"5 polls read {polled} bytes"
    with open(run / "events.jsonl", "ab") as log:
        log.write(b'"}\n{"kind": "log", "message": "next"}\n')
    reader.poll()
    assert reader.latest("log")["message"] == "next"  # type: ignore[index]
    assert reader.bad_lines == 1  # the 30 MB line: longer than the 16 MiB kept
    assert any("longer than" in problem for problem in reader.problems)


def test_a_huge_line_is_never_held_whole(tmp_path):
    run = finished_run(tmp_path)
    with open(run / "events.jsonl", "ab") as log:
        log.write(b'{"kind": "log", "message": "' + b"y" * 20_000_000 + b'"}\n')
        log.write(b'{"kind": "log", "message": "small"}\n')
    tracemalloc.start()
    try:
        reader = RunReader(run, max_line=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12_000_000, f"peak {peak} bytes"
    assert reader.bad_lines == 1 and reader.latest("log")["message"] == "small"  # type: ignore[index]
    assert reader.offsets.events == os.path.getsize(run / "events.jsonl")


def test_resume_removes_the_temporaries_of_a_writer_killed_mid_write(tmp_path):
    run = finished_run(tmp_path)
    dead = 2**22 + 4321  # no such process
    (run / "checkpoints" / f".last.pt.{dead}.tmp").write_bytes(b"half a checkpoint")
    (run / f".status.json.{dead}.tmp").write_bytes(b"")
    live = run / f".stop.{dead}.tmp"  # a dashboard (maybe on another host) asking to stop
    live.write_bytes(b"{")
    RunWriter.open(run, flush_interval=60.0).close()
    leftovers = sorted(p.name for p in run.rglob("*.tmp"))
    assert leftovers == [live.name]


@pytest.mark.parametrize("poll", [False, True])
def test_the_folder_watcher_keeps_reporting_beside_a_symlink_loop(tmp_path, poll):
    from dltui.tui.watch import DirectoryWatcher

    runs = tmp_path / "runs"
    (runs / "x").mkdir(parents=True)
    os.symlink("self", runs / "x" / "self")
    os.symlink(".", runs / "x" / "loop")
    seen: list[frozenset[Path]] = []
    watcher = DirectoryWatcher({"runs": runs}, lambda kind, root, paths: seen.append(paths),
                               poll=poll)  # fmt: skip
    watcher.start()
    try:
        time.sleep(0.3)
        (runs / "y" / "r").mkdir(parents=True)
        deadline = time.monotonic() + 10
        while not any(runs / "y" / "r" in paths for paths in seen):
            assert time.monotonic() < deadline and watcher.running, seen
            time.sleep(0.05)
    finally:
        watcher.stop()


def test_the_details_of_a_run_never_carry_a_folder_name_s_escapes(tmp_path):
    from dltui.tui.screens.describe import describe_run

    run = finished_run(tmp_path, run_id="r\x1b]2;pwned\x07")
    (info,) = discover_runs(tmp_path)
    text = describe_run(info).plain
    assert "\x1b" not in text and "\x07" not in text and "␛]2;pwned␇" in text
    (run / "meta.json").write_text("{")
    (broken,) = discover_runs(tmp_path)
    assert "\x1b" not in describe_run(broken).plain and "Problem" in describe_run(broken).plain
