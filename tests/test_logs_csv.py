"""CSV logs of Lightning and Keras read as runs: gaps, missing columns, growth, rewrites."""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

from dltui.logs.csv_log import CsvLog, looks_like_keras_log, read_hparams_yaml


def _columns(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Each column's (x, value) pairs at the rows where it has a value, by the csv module."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    x_name = "step" if "step" in rows[0] else "epoch"
    out: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        for name, cell in row.items():
            if name != x_name and cell not in ("", None):
                out.setdefault(name, []).append((float(row[x_name]), float(cell)))
    return out


def test_lightning_csv_logger_with_gaps(tmp_path: Path) -> None:
    loggers = pytest.importorskip("pytorch_lightning.loggers")
    logger = loggers.CSVLogger(str(tmp_path), name="exp", version=0)
    logger.log_hyperparams({"lr": 0.001, "layers": 3, "optimizer": {"name": "adam", "beta": 0.9}})
    for step in range(120):
        logger.log_metrics({"train_loss": 1 / (step + 1), "epoch": step // 40}, step)
        if step % 40 == 39:
            logger.log_metrics({"val_loss": 2 / (step + 1), "epoch": step // 40}, step)
    logger.save()
    logger.finalize("success")
    folder = tmp_path / "exp" / "version_0"
    log = CsvLog(folder / "metrics.csv")
    expected = _columns(folder / "metrics.csv")
    assert set(log.tags()) == set(expected) == {"train_loss", "val_loss", "epoch"}
    for tag, points in expected.items():
        series = log.series(tag)
        assert series.step.tolist() == [int(x) for x, _ in points]
        assert series.value.tolist() == [v for _, v in points]
    assert log.series("val_loss").epoch.tolist() == [0.0, 1.0, 2.0]
    assert np.isnan(log.series("val_loss").time).all()  # CSV logs record no times
    hparams = read_hparams_yaml(folder / "hparams.yaml")
    assert hparams == {"lr": 0.001, "layers": 3, "optimizer.name": "adam", "optimizer.beta": 0.9}


def test_keras_csv_logger(tmp_path: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras is set to another backend")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    path = tmp_path / "training.log"
    model.fit(rng.random((64, 4)), rng.integers(0, 3, 64), epochs=4, validation_split=0.25,
              verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])  # fmt: skip
    assert looks_like_keras_log(path)
    log = CsvLog(path)
    expected = _columns(path)
    assert set(log.tags()) == set(expected) >= {"loss", "val_loss", "accuracy"}
    for tag, points in expected.items():
        assert log.series(tag).step.tolist() == [0, 1, 2, 3]
        assert log.series(tag).value.tolist() == [v for _, v in points]


def test_missing_columns_bad_rows_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text(
        "step,loss,acc,note\n"
        "0,1.0,,hello\n"
        "1,0.5\n"  # a row with missing cells: skipped and counted
        "2,nan,0.7,\n"
        ",0.1,0.1,\n"  # no step: nothing to place the points at
        "3,0.25,0.8,x\n"
    )
    log = CsvLog(path)
    assert log.series("loss").step.tolist() == [0, 2, 3]
    loss = log.series("loss").value.tolist()
    assert loss[0] == 1.0 and math.isnan(loss[1]) and loss[2] == 0.25
    assert log.series("acc").step.tolist() == [2, 3]
    assert "note" not in log.tags()  # text, not numbers
    assert log.bad_lines == 1


def test_growth_a_torn_line_and_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n0,1.0\n1,0.9\n2,0.")
    log = CsvLog(path)
    assert log.series("loss").step.tolist() == [0, 1]
    with path.open("a") as handle:
        handle.write("8\n3,0.7\n")
    changes = log.poll()
    assert changes.points == 2 and log.series("loss").value.tolist() == [1.0, 0.9, 0.8, 0.7]
    # Lightning rewrites the file with a wider header when a new name is logged.
    path.write_text("step,loss,val_loss\n0,1.0,\n1,0.9,\n2,0.8,\n3,0.7,1.5\n")
    changes = log.poll()
    assert changes.reset
    assert log.series("loss").step.tolist() == [0, 1, 2, 3]
    assert log.series("val_loss").step.tolist() == [3]


def test_a_header_still_being_written_and_no_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("step,lo")
    assert CsvLog(path).tags() == []
    assert CsvLog(tmp_path / "missing.csv").tags() == []


def test_hparams_yaml_is_read_as_data_only(tmp_path: Path) -> None:
    path = tmp_path / "hparams.yaml"
    path.write_text(
        "lr: 0.01\nname: 'resnet'\nflag: true\nnothing: null\n"
        "evil: !!python/object/apply:os.system ['echo pwned']\nlist:\n- 1\n- 2\n"
    )
    hp = read_hparams_yaml(path)
    assert hp["lr"] == 0.01 and hp["name"] == "resnet" and hp["flag"] is True
    assert hp["nothing"] is None and hp["list"] == [1, 2]
    assert isinstance(hp["evil"], str)  # kept as text, never constructed


def test_discovery_finds_each_kind_and_survives_loops(tmp_path: Path) -> None:
    from dltui.logs.discover import KERAS_CSV, LIGHTNING_CSV, TENSORBOARD, discover_logs

    (tmp_path / "tb" / "run1").mkdir(parents=True)
    (tmp_path / "tb" / "run1" / "events.out.tfevents.1.host").write_bytes(b"")
    (tmp_path / "lightning_logs" / "version_0").mkdir(parents=True)
    (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").write_text("step,loss\n")
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "training.log").write_text("epoch,loss\n0,1\n")
    (tmp_path / "keras" / "notes.csv").write_text("a,b\n1,2\n")  # not a log
    (tmp_path / "dltui_run").mkdir()
    for name in ("meta.json", "events.jsonl", "events.out.tfevents.x"):
        (tmp_path / "dltui_run" / name).write_text("")
    os.symlink(tmp_path, tmp_path / "tb" / "loop")
    found = discover_logs([tmp_path])
    kinds = {(r.source, r.experiment, r.run) for r in found.runs}
    root = tmp_path.name
    assert kinds == {
        (TENSORBOARD, f"{root}/tb", "run1"),
        (LIGHTNING_CSV, f"{root}/lightning_logs", "version_0"),
        (KERAS_CSV, f"{root}/keras", "training.log"),
    }
    assert any("link back" in p for p in found.problems)
    assert discover_logs([tmp_path / "missing"]).problems


def test_a_log_run_reads_like_a_dltui_run(tmp_path: Path) -> None:
    from dltui.logs.discover import discover_logs
    from dltui.logs.reader import LogRunReader

    folder = tmp_path / "lightning_logs" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text("step,epoch,loss\n0,0,1.0\n1,0,0.5\n")
    (folder / "hparams.yaml").write_text("lr: 0.01\n")
    (run,) = discover_logs([tmp_path]).runs
    reader = LogRunReader(run)
    assert reader.meta["config"] == {"lr": 0.01}
    assert reader.meta["tool"] == "lightning-csv" and reader.meta["run_id"] == "version_0"
    assert reader.status.state == "logging" and not reader.status.alive
    assert reader.series("loss").value.tolist() == [1.0, 0.5]
    assert reader.events_of("epoch") == [] and reader.latest("early_stopping") is None
    with (folder / "metrics.csv").open("a") as handle:
        handle.write("2,1,0.25\n")
    changes = reader.poll()
    assert changes.points == 2 and "loss" in changes.tags  # loss and epoch
    old = time.time() - 3600
    os.utime(folder / "metrics.csv", (old, old))
    assert reader.status.state == "idle"
