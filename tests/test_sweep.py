"""Sweeps: the [sweep] table, its checks, and real sweeps of tiny experiments.

The real sweeps train a one-layer model on 120 points for 3 epochs: a trial is
about a second, so the whole file runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dltui.spec import SpecError, parse_experiment
from dltui.spec.overrides import PathError, apply_to_text, parse_assignment, parse_path, set_path

optuna = pytest.importorskip("optuna")

BASE = """
description = "tiny"
seed = 0

[data]
source = "gaussian"
samples = 120
split = {{ train = 0.7, val = 0.3, test = 0.0 }}
batch_size = 32

[[model.layers]]
type = "dense"
out_features = 8

[[model.layers]]
type = "relu"

[[model.layers]]
type = "dense"
out_features = 1

[training]
epochs = {epochs}
loss = "bce_with_logits"
metrics = ["accuracy"]
threads = 1

[training.optimizer]
name = "sgd"
lr = 0.1

[sweep]
{sweep}
"""


def _file(tmp_path: Path, sweep: str, epochs: int = 3, name: str = "tiny") -> Path:
    path = tmp_path / "experiments" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BASE.format(sweep=sweep, epochs=epochs))
    return path


def _sweep(
    tmp_path: Path, file: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dltui",
            "sweep",
            str(file),
            "--runs",
            str(tmp_path / "runs"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def _study(tmp_path: Path, name: str, experiment: str = "tiny"):
    from optuna.storages.journal import JournalFileBackend

    path = tmp_path / "runs" / experiment / "sweeps" / name / "study.journal"
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    return optuna.load_study(study_name=name, storage=storage)


def _trial_runs(tmp_path: Path, experiment: str = "tiny") -> list[dict]:
    metas = []
    for meta in sorted((tmp_path / "runs" / experiment).glob("*/meta.json")):
        metas.append(json.loads(meta.read_text())["config"]["sweep"])
    return metas


# ----------------------------------------------------------------------------- the table


def test_paths_and_assignments() -> None:
    assert parse_path("model.layers[3].p") == ("model", "layers", 3, "p")
    assert parse_path('sweep.params."a.b"') == ("sweep", "params", "a.b")
    assert parse_assignment("training.optimizer.lr=3e-4") == ("training.optimizer.lr", 3e-4)
    assert parse_assignment("data.source=moons") == ("data.source", "moons")
    assert parse_assignment('training.loss="mse"') == ("training.loss", "mse")
    with pytest.raises(PathError):
        parse_assignment("no equals sign")
    raw = {"model": {"layers": [{"type": "dense"}]}}
    set_path(raw, "model.layers[0].out_features", 4)
    set_path(raw, "early_stopping.patience", 3)  # the last table may be new
    assert raw == {
        "model": {"layers": [{"type": "dense", "out_features": 4}]},
        "early_stopping": {"patience": 3},
    }
    with pytest.raises(PathError, match=r"has 1 entries"):
        set_path(raw, "model.layers[5].out_features", 4)
    text = "# keep me\n[training]\nepochs = 3 # and me\n"
    assert (
        apply_to_text(text, {"training.epochs": 9})
        == "# keep me\n[training]\nepochs = 9 # and me\n"
    )


def test_grid_size_and_budget() -> None:
    from dltui.spec.sweep import SweepSpec

    spec = SweepSpec.model_validate(
        {
            "method": "grid",
            "params": {"a": {"choices": [1, 2, 3]}, "b": {"low": 8, "high": 32, "step": 8}},
        }
    )
    assert spec.grid_size == 12 and spec.trial_budget == 12
    assert spec.params["b"].grid() == [8, 16, 24, 32]
    real = SweepSpec.model_validate({"params": {"x": {"low": 0.0, "high": 1.0, "step": 0.25}}})
    assert real.params["x"].grid() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert real.trial_budget == 20


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (
            'method = "grid"\nparams = { "training.optimizer.lr" = { low = 0.001, high = 0.1 } }',
            "a grid needs choices",
        ),
        (
            'method = "grid"\n[sweep.params]\n'
            '"model.layers[0].out_features" = { low = 1, high = 200 }\n'
            '"model.layers[2].out_features" = { low = 1, high = 200 }',
            "more than the 10,000",
        ),
        ('params = { "training.optimizer.lr" = { low = 0.1, high = 0.001 } }', "is above high"),
        (
            'params = { "training.optimizer.lr" = { low = 0.0, high = 0.1, log = true } }',
            "needs low > 0",
        ),
        ("params = {}", "at least one field"),
    ],
)
def test_bad_sweep_tables_are_named(tmp_path: Path, sweep: str, message: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_experiment(BASE.format(sweep=sweep, epochs=3), file="e.toml")
    assert message in str(error.value)
    assert "e.toml:" in str(error.value) and "sweep" in str(error.value)


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ('"training.optimizer.lrr" = { low = 0.1, high = 0.2 }', "lrr"),
        ('"model.layers[9].out_features" = { low = 1, high = 4 }', "has 3 entries"),
        ('"training.optimizer.lr" = { low = -1.0, high = 0.1 }', "-1.0 is not accepted"),
        ('"data.batch_size" = { choices = [16, 0] }', "0 is not accepted by data.batch_size"),
    ],
)
def test_values_the_field_would_reject_are_errors(tmp_path: Path, param: str, message: str) -> None:
    file = _file(tmp_path, f"[sweep.params]\n{param}")
    result = subprocess.run(
        [sys.executable, "-m", "dltui", "check", str(file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert message in output
    assert f"{file}:" in output and "sweep.params." in output


def test_checking_a_sweep_writes_no_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each value a sweep may set is validated on the parsed table: written out as TOML and
    # read again, a file with a 20,000-item array took tomlkit minutes per value.
    import tomlkit

    from dltui.checks import check_file

    def refuse(*_: object, **__: object) -> str:
        raise AssertionError("a sweep's values are checked without writing TOML")

    monkeypatch.setattr(tomlkit, "dumps", refuse)
    file = _file(tmp_path, '[sweep.params]\n"data.batch_size" = { choices = [16, 0] }')
    file.write_text('tags = ["t", "u"]\n' + file.read_text())
    result = check_file(file)
    assert [p.message for p in result.problems if "sweep" in p.path] == [
        "0 is not accepted by data.batch_size: input should be greater than or equal to 1; got 0"
    ]


def test_random_and_tpe_stay_inside_their_distributions() -> None:
    from dltui.spec.sweep import SweepSpec
    from dltui.sweep.space import build_sampler, suggest

    spec = SweepSpec.model_validate(
        {
            "params": {
                "lr": {"low": 1e-4, "high": 1e-1, "log": True},
                "width": {"low": 8, "high": 64, "step": 8},
                "p": {"low": 0.0, "high": 0.5},
                "act": {"choices": ["relu", "tanh"]},
            }
        }
    )
    for method in ("random", "tpe"):
        spec = spec.model_copy(update={"method": method})
        study = optuna.create_study(sampler=build_sampler(spec, 0))
        for _ in range(40):
            trial = study.ask()
            values = suggest(trial, spec)
            assert 1e-4 <= values["lr"] <= 1e-1
            assert values["width"] in range(8, 65, 8)
            assert 0.0 <= values["p"] <= 0.5
            assert values["act"] in ("relu", "tanh")
            study.tell(trial, values["lr"] * values["width"])


# ----------------------------------------------------------------------------- real sweeps


@pytest.mark.slow
def test_a_grid_runs_exactly_its_product(tmp_path: Path) -> None:
    file = _file(
        tmp_path,
        'method = "grid"\nparallel = 2\n[sweep.params]\n'
        '"training.optimizer.lr" = { choices = [0.05, 0.2] }\n'
        '"model.layers[0].out_features" = { low = 4, high = 8, step = 4 }',
    )
    result = _sweep(tmp_path, file, "--name", "g")
    assert result.returncode == 0, result.stdout + result.stderr
    study = _study(tmp_path, "g")
    assert len(study.trials) == 4
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    combos = {
        (t.params["training.optimizer.lr"], t.params["model.layers[0].out_features"])
        for t in study.trials
    }
    assert combos == {(0.05, 4), (0.05, 8), (0.2, 4), (0.2, 8)}
    runs = _trial_runs(tmp_path)
    assert sorted(r["trial"] for r in runs) == [0, 1, 2, 3]
    # Each run trained what its trial says: the frozen experiment has the values.
    for folder in (tmp_path / "runs" / "tiny").glob("2*"):
        meta = json.loads((folder / "meta.json").read_text())
        params = meta["config"]["sweep"]["params"]
        frozen = (folder / "experiment.toml").read_text()
        assert f"lr = {params['training.optimizer.lr']}" in frozen
        assert (
            meta["config"]["model"]["layers"][0]["out_features"]
            == params["model.layers[0].out_features"]
        )


@pytest.mark.slow
def test_a_pruned_trial_stops_early_and_is_recorded_pruned(tmp_path: Path) -> None:
    from optuna.storages.journal import JournalFileBackend

    file = _file(
        tmp_path,
        'method = "random"\npruner = { kind = "median", warmup_epochs = 1, '
        "startup_trials = 1 }\n[sweep.params]\n"
        '"training.optimizer.lr" = { choices = [1e-9] }',
        epochs=400,
    )
    # A finished trial that was perfect at every epoch: any real trial is worse.
    folder = tmp_path / "runs" / "tiny" / "sweeps" / "p"
    folder.mkdir(parents=True)
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    study = optuna.create_study(study_name="p", storage=storage, direction="minimize")
    study.add_trial(
        optuna.trial.create_trial(
            params={"training.optimizer.lr": 1e-9},
            distributions={
                "training.optimizer.lr": optuna.distributions.CategoricalDistribution([1e-9])
            },
            value=0.0,
            intermediate_values={e: 0.0 for e in range(1, 401)},
        )
    )
    (folder / "sweep.json").write_text(json.dumps({"name": "p", "file": str(file)}))
    started = time.monotonic()
    result = _sweep(tmp_path, file, "--resume", "p", "--trials", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    trial = _study(tmp_path, "p").trials[1]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert max(trial.intermediate_values) < 400  # stopped before its 400 epochs
    assert "pruned" in result.stdout
    (run,) = [p for p in (tmp_path / "runs" / "tiny").glob("2*")]
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "stopped" and "pruned" in (status["reason"] or "")
    assert time.monotonic() - started < 120


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_repeating_trials(tmp_path: Path) -> None:
    file = _file(
        tmp_path,
        'method = "random"\ntrials = 4\n[sweep.params]\n'
        '"training.optimizer.lr" = { low = 0.01, high = 0.3, log = true }',
        epochs=25,
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    sweep = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dltui",
            "sweep",
            str(file),
            "--runs",
            str(tmp_path / "runs"),
            "--name",
            "k",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it while its second trial trains
        runs = list((tmp_path / "runs" / "tiny").glob("2*/checkpoints/last.pt"))
        if len(runs) >= 2:
            break
        time.sleep(0.2)
    os.killpg(sweep.pid, signal.SIGKILL)
    sweep.wait()
    before = _study(tmp_path, "k").trials
    finished_before = {t.number for t in before if t.state.is_finished()}
    result = _sweep(tmp_path, file, "--resume", "k")
    assert result.returncode == 0, result.stdout + result.stderr
    after = _study(tmp_path, "k").trials
    assert [t.state for t in after if t.number in finished_before] == [
        t.state for t in before if t.number in finished_before
    ]
    complete = [t for t in after if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) >= 4
    # No trial number ran in two run folders.
    numbers = [r["trial"] for r in _trial_runs(tmp_path)]
    assert len(numbers) == len(set(numbers))
    # The resumed sampler drew new values: with its first seed again it drew those of
    # trials 0, 1, ... once more (only a trial queued again repeats its values, on purpose).
    drawn = [
        t.params["training.optimizer.lr"]
        for t in after
        if t.params and "fixed_params" not in t.system_attrs
    ]
    assert len(drawn) >= 4 and len(drawn) == len(set(drawn)), drawn


@pytest.mark.slow
def test_a_trial_queued_again_does_not_spend_the_budget(tmp_path: Path) -> None:
    """A sweep killed between starting a trial's run and its first checkpoint leaves a
    trial that is failed and its values queued again: the budget still buys N results."""
    file = _file(
        tmp_path,
        'method = "random"\ntrials = 2\n[sweep.params]\n'
        '"training.optimizer.lr" = { low = 0.01, high = 0.3, log = true }',
    )
    first = _sweep(tmp_path, file, "--name", "q")
    assert first.returncode == 0, first.stdout + first.stderr
    # What a sweep killed just after its trial's run began leaves behind.
    study = _study(tmp_path, "q")
    ghost = study.ask(
        {"training.optimizer.lr": optuna.distributions.FloatDistribution(0.01, 0.3, log=True)}
    )
    run_dir = tmp_path / "runs" / "tiny" / "20990101-000000-ghost"
    run_dir.mkdir(parents=True)
    (run_dir / "meta.json").write_text("{}")
    ghost.set_user_attr("worker", "gone-host-1")
    ghost.set_user_attr("run_dir", str(run_dir))
    result = _sweep(tmp_path, file, "--resume", "q", "--trials", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "queued again" in result.stdout
    trials = _study(tmp_path, "q").trials
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 3
    assert complete[-1].params == ghost.params


@pytest.mark.slow
def test_two_workers_share_one_study(tmp_path: Path) -> None:
    file = _file(
        tmp_path,
        'method = "grid"\n[sweep.params]\n'
        '"training.optimizer.lr" = { choices = [0.01, 0.03, 0.1, 0.3] }\n'
        '"model.layers[0].out_features" = { choices = [4, 8] }',
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [
        sys.executable,
        "-m",
        "dltui",
        "sweep",
        str(file),
        "--runs",
        str(tmp_path / "runs"),
        "--name",
        "shared",
    ]
    workers = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp_path
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=240)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    study = _study(tmp_path, "shared")
    combos = [tuple(t.params.values()) for t in study.trials]
    assert len(combos) == 8 and len(set(combos)) == 8  # every grid point once
    assert all("trial" in out for out in outputs)  # both did work
    numbers = [r["trial"] for r in _trial_runs(tmp_path)]
    assert sorted(numbers) == list(range(8))


@pytest.mark.slow
def test_the_sweep_report_lists_every_trial_and_the_best(tmp_path: Path) -> None:
    from dltui.sweep.report import find_sweeps, read_sweep

    file = _file(tmp_path, 'method = "grid"\n[sweep.params]\n'
                 '"training.optimizer.lr" = { choices = [0.01, 0.3] }')  # fmt: skip
    assert _sweep(tmp_path, file, "--name", "r").returncode == 0
    (folder,), problems = find_sweeps(tmp_path / "runs")
    assert not problems and folder.name == "r" and folder.state == "finished"
    report = read_sweep(folder)
    assert report.counts() == {"finished": 2} and report.metric == "val/loss"
    assert not report.maximize
    best = report.best
    assert best is not None and best.value == min(t.value for t in report.trials)
    assert all(t.run_dir is not None and (t.run_dir / "meta.json").exists() for t in report.trials)
    assert [n for n, _ in report.best_so_far()] == sorted(t.number for t in report.trials)
