"""discover_runs / scan_runs over a runs folder."""

from __future__ import annotations

import json
import os
import time

from dltui.runs import RunWriter, discover_runs, scan_runs
from dltui.runs.control import this_host


def make_run(root, experiment, run_id, **kwargs):
    return RunWriter.create(root, experiment, run_id=run_id, flush_interval=60.0, **kwargs)


def test_discovers_runs_and_lists_broken_ones_with_a_reason(tmp_path):
    old = make_run(tmp_path, "mnist", "20260101-000000-aaaa", device="cpu")
    old.status("running")
    for epoch in range(3):
        old.event(
            "early_stopping", epoch=epoch, monitor="val/loss", value=1.0 - epoch / 10,
            best=0.5 - epoch / 10, best_epoch=epoch, wait=0, patience=3, mode="min",
            stopped=False, reason=None,
        )  # fmt: skip
    old.close("stopped", reason="early stopping")
    new = make_run(tmp_path, "spirals", "20260102-000000-bbbb")
    new.status("running", step=7, epoch=1.0)

    broken = tmp_path / "mnist" / "20260103-000000-cccc"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    future = tmp_path / "mnist" / "20260104-000000-dddd"
    future.mkdir()
    (future / "meta.json").write_text(json.dumps({"format": 99}))
    (tmp_path / "mnist" / "launching").mkdir()  # no meta.json yet: not a run
    (tmp_path / "README.txt").write_text("not an experiment folder")

    scan = scan_runs(tmp_path)
    assert scan.skipped == []
    readable = [run for run in scan.runs if not run.broken]
    assert [run.run_id for run in readable] == [new.run_id, old.run_id]  # newest first
    by_path = {run.path: run for run in scan.runs if run.broken}
    assert set(by_path) == {broken, future}
    assert all(run.state == "broken" and not run.alive for run in by_path.values())
    assert "meta.json" in by_path[broken].reason and "not valid JSON" in by_path[broken].reason
    assert "format 99" in by_path[future].reason
    assert by_path[broken].experiment == "mnist" and by_path[broken].run_id == broken.name

    newest, oldest = readable
    assert newest.experiment == "spirals" and newest.state == "running" and newest.alive
    assert newest.step == 7 and newest.epoch == 1.0 and newest.best is None
    assert oldest.state == "stopped" and oldest.reason == "early stopping"
    assert oldest.device == "cpu" and oldest.monitor == "val/loss"
    assert abs(oldest.best - 0.3) < 1e-9 and oldest.best_epoch == 2
    assert discover_runs(tmp_path) == scan.runs
    new.close()


def test_a_run_whose_writer_vanished_is_dead(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    w.close()
    status_path = w.run_dir / "status.json"
    status = json.loads(status_path.read_text())
    # As a writer killed mid-run leaves it: still "running", pid long gone.
    status.update(status="running", pid=2**22 + 4321, host=this_host())
    status_path.write_text(json.dumps(status))
    (run,) = discover_runs(tmp_path)
    assert run.state == "dead" and not run.alive and "gone" in (run.reason or "")


def test_broken_status_json_lists_the_run_as_broken(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    w.close()
    (w.run_dir / "status.json").write_text("{")
    (run,) = discover_runs(tmp_path)
    assert run.state == "broken" and "status.json" in (run.reason or "")


def test_missing_root_is_empty(tmp_path):
    assert discover_runs(tmp_path / "nothing") == []


def test_discovery_reads_only_the_tail_of_long_logs(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    for i in range(20_000):
        w.event("log", level="info", message=f"line {i}")
    w.event("early_stopping", monitor="val/acc", best=0.9, best_epoch=4, mode="max")
    w.close()
    assert os.path.getsize(w.run_dir / "events.jsonl") > 500_000
    (run,) = discover_runs(tmp_path)
    assert run.best == 0.9 and run.monitor == "val/acc"


def test_an_experiments_sweeps_folder_is_not_a_run(tmp_path):
    """runs/<experiment>/sweeps/ holds sweep records: never listed as a (broken) run."""
    make_run(tmp_path, "spirals", "20260101-000000-aaaa").close("finished")
    sweeps = tmp_path / "spirals" / "sweeps" / "lr"
    sweeps.mkdir(parents=True)
    (sweeps / "sweep.json").write_text("{}")
    old = time.time() - 3600  # long past the grace a launching run's folder gets
    os.utime(tmp_path / "spirals" / "sweeps", (old, old))
    assert [run.run_id for run in discover_runs(tmp_path)] == ["20260101-000000-aaaa"]


def test_a_run_without_early_stopping_is_best_at_its_lowest_val_loss(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    for epoch, (val, train) in enumerate([(0.9, 1.0), (0.4, 0.8), (0.6, 0.5)], start=1):
        w.event("epoch", epoch=epoch, step=10 * epoch, **{"val/loss": val, "train/loss": train})
    w.close()
    (run,) = discover_runs(tmp_path)
    assert (run.best, run.monitor, run.best_epoch) == (0.4, "val/loss", 2)

    # Resumed from step 10: epochs 2 and 3 were redone, worse; the superseded 0.4 is gone.
    w = RunWriter.open(run.path, step=10)
    for epoch, val in ((2, 0.7), (3, 0.65)):
        w.event("epoch", epoch=epoch, step=10 * epoch, **{"val/loss": val, "train/loss": 0.5})
    w.close()
    (run,) = discover_runs(tmp_path)
    assert (run.best, run.monitor, run.best_epoch) == (0.65, "val/loss", 3)


def test_a_run_without_validation_is_best_at_its_lowest_train_loss(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    for epoch, train in enumerate([0.7, 0.3, 0.5], start=1):
        w.event("epoch", epoch=epoch, step=epoch, **{"train/loss": train})
    w.close()
    (run,) = discover_runs(tmp_path)
    assert (run.best, run.monitor, run.best_epoch) == (0.3, "train/loss", 2)


def test_a_long_run_is_best_at_what_its_status_says_not_at_the_tail_of_its_log(tmp_path):
    # 2,000 epochs of events with text samples: the best (epoch 3) is far before the
    # last 64 KiB of the log, which is all a run list reads of it.
    w = make_run(tmp_path, "exp", "r")
    for epoch in range(1, 2001):
        val = 0.1 if epoch == 3 else 1.0 + epoch / 1e4
        w.event("epoch", epoch=epoch, step=epoch, **{"val/loss": val, "train/loss": val})
        w.event("sample", epoch=epoch, step=epoch, format="text", text="x" * 200, seed=0)
        if epoch == 3:
            w.best("val/loss", val, epoch)
    w.close()
    (run,) = discover_runs(tmp_path)
    assert (run.best, run.monitor, run.best_epoch) == (0.1, "val/loss", 3)


def test_a_status_best_that_is_not_valid_falls_back_to_the_log(tmp_path):
    w = make_run(tmp_path, "exp", "r")
    w.event("epoch", epoch=1, step=1, **{"val/loss": 0.5})
    w.close()
    status_path = tmp_path / "exp" / "r" / "status.json"
    for told in ({"monitor": 3, "value": 0.1, "epoch": 1}, {"monitor": "m", "value": "x"}, [1]):
        status = json.loads(status_path.read_text())
        status["best"] = told
        status_path.write_text(json.dumps(status))
        (run,) = discover_runs(tmp_path)
        assert (run.best, run.monitor, run.best_epoch) == (0.5, "val/loss", 1)
