"""`dltui run` end to end on tiny experiments (in-process where possible, for speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dltui.cli import main
from dltui.runs import RunReader

SPIRALS = """
name = "{name}"
seed = 3
[data]
source = "spirals"
samples = {samples}
batch_size = 32
split = {{ train = 0.6, val = 0.2, test = 0.2 }}
[[model.layers]]
type = "dense"
out_features = 16
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = {epochs}
log_every = 3
metrics = ["accuracy"]
optimizer = {{ name = "adam", lr = 0.01 }}
{extra}
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def spirals(
    tmp_path: Path, *, name: str = "tiny", epochs: int = 3, samples: int = 200, extra: str = ""
) -> Path:
    return write(
        tmp_path,
        SPIRALS.format(name=name, epochs=epochs, samples=samples, extra=extra),
        f"{name}.toml",
    )


def only_run(root: Path, experiment: str) -> Path:
    runs = [p for p in (root / experiment).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def reader(run_dir: Path) -> RunReader:
    r = RunReader(run_dir)
    r.poll()
    return r


@pytest.mark.slow
def test_run_records_everything(tmp_path: Path) -> None:
    exp = spirals(tmp_path, extra="[early_stopping]\npatience = 5\n")
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet"]) == 0
    run = only_run(root, "tiny")
    for name in (
        "meta.json",
        "experiment.toml",
        "events.jsonl",
        "scalars.bin",
        "status.json",
        "output.log",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
    ):
        assert (run / name).exists(), name
    r = reader(run)
    assert r.status.status == "finished"
    assert [e["epoch"] for e in r.events_of("epoch")] == [1, 2, 3]
    assert len(r.events_of("early_stopping")) == 3
    model = r.latest("model")
    assert model is not None and model["rows"][0]["label"] == "0_dense"
    statuses = [e["status"] for e in r.events_of("status")]
    assert statuses == ["starting", "running", "finished"]
    # 120 training samples / 32 = 4 steps per epoch, logged every 3 steps.
    assert len(r.series("train/loss")) == 4
    for tag in (
        "lr",
        "throughput",
        "grad_norm/0_dense",
        "grad_norm/2_dense",
        "grad_norm/total",
        "val/loss",
        "val/accuracy",
        "train/accuracy",
        "epoch_time",
        "test/loss",
    ):
        assert len(r.series(tag)) > 0, tag
    assert len(r.series("val/loss")) == 3
    test = r.latest("test")
    assert test is not None and "test/accuracy" in test
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] == 3 and state["step"] == 12
    assert "layers.0.weight" in state["model"]
    assert 'name = "tiny"' in state["experiment"]
    torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    log = (run / "output.log").read_text()
    assert "epoch 3/3" in log and "finished" in log
    # Said in words ("test (best (epoch 3)):" read as nested brackets).
    assert "test on the best weights (epoch " in log and "test (best" not in log


@pytest.mark.parametrize(
    "extra", ["", '[early_stopping]\nmonitor = "val/accuracy"\npatience = 9\n']
)
def test_status_says_the_runs_best_as_the_trainer_judges_it(tmp_path: Path, extra: str) -> None:
    # The run list reads a run's best from status.json, not by scanning its whole log.
    exp = spirals(tmp_path, epochs=4, extra=extra)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet"]) == 0
    run = only_run(root, "tiny")
    told = json.loads((run / "status.json").read_text())["best"]
    r = reader(run)
    if extra:
        last = r.events_of("early_stopping")[-1]
        assert told == {
            "monitor": last["monitor"],
            "value": last["best"],
            "epoch": last["best_epoch"],
        }
    else:
        losses = [(e["val/loss"], e["epoch"]) for e in r.events_of("epoch")]
        value, epoch = min(losses, key=lambda pair: (pair[0], pair[1]))
        assert told == {"monitor": "val/loss", "value": value, "epoch": epoch}


@pytest.mark.slow
def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    extra = '[[model.layers]]\ntype = "dropout"\np = 0.1\n'
    # Dropout after the head makes the global RNG state matter across the resume.
    exp = spirals(tmp_path, epochs=4, extra="")
    text = exp.read_text().replace("[training]", extra + "[training]")
    exp.write_text(text)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "straight"]) == 0
    assert (
        main(["run", str(exp), "--runs", str(root), "--quiet", "--name", "halves", "--epochs", "2"])
        == 0
    )
    halves = root / "tiny" / "halves"
    # --epochs 2 is that run's target (a plain resume would stop there): 4 is asked for.
    resume = ["--resume", str(halves), "--epochs", "4"]
    assert main(["run", str(exp), "--runs", str(root), "--quiet", *resume]) == 0
    a = torch.load(root / "tiny" / "straight" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(halves / "checkpoints" / "last.pt", weights_only=True)
    assert a["step"] == b["step"] and a["epoch"] == b["epoch"] == 4
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    r = reader(halves)
    assert [e["epoch"] for e in r.events_of("epoch")] == [1, 2, 3, 4]
    assert r.events_of("resume")


@pytest.mark.slow
def test_frozen_layers_stay_frozen_and_init_from_loads(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    base = spirals(tmp_path, name="base", epochs=1)
    assert main(["run", str(base), "--runs", str(root), "--quiet"]) == 0
    base_run = only_run(root, "base")
    start = torch.load(base_run / "checkpoints" / "best.pt", weights_only=True)["model"]
    extra = 'init_from = { experiment = "base" }\nfreeze = [0]\n'
    text = SPIRALS.format(name="tuned", epochs=2, samples=200, extra="").replace(
        "[[model.layers]]", "[model]\n" + extra + "[[model.layers]]", 1
    )
    tuned = write(tmp_path, text, "tuned.toml")
    assert main(["run", str(tuned), "--runs", str(root), "--quiet"]) == 0
    run = only_run(root, "tuned")
    end = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert torch.equal(end["layers.0.weight"], start["layers.0.weight"])
    assert torch.equal(end["layers.0.bias"], start["layers.0.bias"])
    assert not torch.equal(end["layers.2.weight"], start["layers.2.weight"])
    r = reader(run)
    init = r.latest("init_from")
    assert init is not None and init["loaded"] == 4 and init["skipped"] == []
    assert r.latest("freeze") is not None
    # Frozen layers have no gradient, so no gradient norm either.
    assert len(r.series("grad_norm/0_dense")) == 0
    assert len(r.series("grad_norm/2_dense")) > 0


@pytest.mark.slow
def test_nan_loss_fails_with_reason(tmp_path: Path) -> None:
    text = """
name = "diverge"
[data]
source = "plane"
samples = 200
batch_size = 20
[[model.layers]]
type = "dense"
out_features = 32
[[model.layers]]
type = "dense"
out_features = 1
[training]
epochs = 3
loss = "mse"
log_every = 50
optimizer = { name = "sgd", lr = 10.0 }
"""
    exp = write(tmp_path, text)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet"]) == 1
    r = reader(only_run(root, "diverge"))
    assert r.status.status == "failed"
    assert r.status.reason is not None and r.status.reason.startswith("loss became")
    assert " at step " in r.status.reason


def test_invalid_experiment_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = write(tmp_path, "[data]\nsource = 'spirals'\n[training]\nepochs = 0\n")
    assert main(["run", str(exp), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "model" in err and "training.epochs" in err


@pytest.mark.slow
def test_metric_that_does_not_fit_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = (
        spirals(tmp_path, name="badmetric", extra="")
        .read_text()
        .replace('metrics = ["accuracy"]', 'metrics = ["r2"]')
    )
    path = write(tmp_path, exp)
    assert main(["run", str(path), "--runs", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "training.metrics: r2 needs regression data" in capsys.readouterr().err
    status = json.loads((only_run(tmp_path / "runs", "badmetric") / "status.json").read_text())
    assert status["status"] == "failed"


CSV_EXPERIMENT = """
name = "table"
seed = 1
[data]
source = "csv"
path = "rows.csv"
target = "label"
batch_size = 16
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = 2
"""


def test_resume_without_file_uses_the_runs_own_experiment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the dashboard's resume runs: `dltui run --resume RUN_DIR`, no FILE. Relative
    # data paths still mean what they meant beside the original file.
    folder = tmp_path / "project"
    folder.mkdir()
    rows = ["a,b,label", *(f"{i % 7},{i % 5},{i % 2}" for i in range(64))]
    (folder / "rows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    exp = write(folder, CSV_EXPERIMENT, "table.toml")
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--epochs", "1"]) == 0
    run = only_run(root, "table")
    exp.write_text("this file was edited since = [", encoding="utf-8")  # not what the run ran
    resume = ["run", "--resume", str(run), "--runs", str(root), "--quiet", "--epochs", "2"]
    assert main(resume) == 0
    assert [e["epoch"] for e in reader(run).events_of("epoch")] == [1, 2]
    assert main(["run", "--runs", str(root), "--quiet"]) == 2
    assert "give the experiment FILE" in capsys.readouterr().err


def test_the_dashboards_resume_command_is_a_valid_run_command(tmp_path: Path) -> None:
    import argparse

    from dltui.train.cli import add_run_arguments
    from dltui.tui.launcher import trainer_command

    argv = trainer_command(None, tmp_path / "run", tmp_path, resume=True)
    assert argv[1:4] == ["-m", "dltui", "run"]
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args(argv[4:])
    assert args.file is None and args.resume == str(tmp_path / "run")
