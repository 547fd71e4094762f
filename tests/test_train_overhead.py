"""The trainer's cheap paths: gradient norms, checkpoint links and pacing, epoch_time, --threads."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from dltui.cli import main
from dltui.runs import RunReader
from dltui.train import checkpoint as checkpoint_module
from dltui.train import runner
from dltui.train.checkpoint import link_checkpoint, save_checkpoint
from dltui.train.cli import add_run_arguments
from dltui.train.grad_norms import LayerGroups, grad_norms, layer_norms

EXPERIMENT = """
name = "pace"
seed = 1
[data]
source = "spirals"
samples = 120
batch_size = 40
split = {{ train = 1.0, val = 0.0 }}
[[model.layers]]
type = "dense"
out_features = 8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = {epochs}
log_every = 2
optimizer = {{ name = "adam", lr = 0.01 }}
"""


def experiment(tmp_path: Path, epochs: int) -> Path:
    path = tmp_path / "pace.toml"
    path.write_text(EXPERIMENT.format(epochs=epochs), encoding="utf-8")
    return path


def run(tmp_path: Path, epochs: int, *extra: str) -> RunReader:
    root = tmp_path / "runs"
    code = main(["run", str(experiment(tmp_path, epochs)), "--runs", str(root), "--quiet", *extra])
    assert code == 0
    (run_dir,) = (root / "pace").iterdir()
    reader = RunReader(run_dir)
    reader.poll()
    return reader


def test_grad_norms_match_a_per_layer_reference() -> None:
    torch.manual_seed(0)
    layers = [nn.Linear(5, 4), nn.Linear(4, 3), nn.Linear(3, 2)]
    for layer in layers[:2]:
        layer(torch.randn(2, layer.in_features)).sum().backward()
    layers[0].bias.grad = None  # a parameter without a gradient is skipped
    groups = LayerGroups(["a", "b", "c"], [list(m.parameters()) for m in layers])
    norms = grad_norms(groups)
    assert norms.present == (True, False, True, True, False, False)
    per_layer, total = layer_norms(groups, norms.present, norms.norms.tolist())
    want = []
    for layer in layers[:2]:
        grads = [p.grad.reshape(-1) for p in layer.parameters() if p.grad is not None]
        want.append(float(torch.linalg.vector_norm(torch.cat(grads))))
    assert per_layer[:2] == pytest.approx(want, rel=1e-5)
    assert per_layer[2] is None  # layer c has no gradients at all
    assert total == pytest.approx(math.hypot(*want), rel=1e-5)


def test_grad_norms_of_half_precision_gradients_do_not_overflow() -> None:
    weight = nn.Parameter(torch.zeros(100_000, dtype=torch.float16))
    weight.grad = torch.full_like(weight, 300.0)  # norm about 94,868: beyond float16
    groups = LayerGroups(["w"], [[weight]])
    norms = grad_norms(groups)
    (only,), total = layer_norms(groups, norms.present, norms.norms.tolist())
    assert only == total == pytest.approx(300.0 * math.sqrt(100_000), rel=1e-3)


def test_link_keeps_its_bytes_when_the_source_is_replaced(tmp_path: Path) -> None:
    best, last = tmp_path / "best.pt", tmp_path / "last.pt"
    save_checkpoint(best, {"epoch": 1, "w": torch.ones(3)})
    link_checkpoint(best, last)
    assert torch.load(last, weights_only=True)["epoch"] == 1
    save_checkpoint(last, {"epoch": 2, "w": torch.zeros(3)})
    assert torch.load(best, weights_only=True)["epoch"] == 1
    assert torch.load(last, weights_only=True)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]  # no temp left


def test_short_epochs_write_last_pt_on_the_first_epoch_and_at_the_end(tmp_path: Path) -> None:
    reader = run(tmp_path, 5)
    written = [(e["which"], e["epoch"]) for e in reader.events_of("checkpoint")]
    # Epochs of milliseconds: within CHECKPOINT_INTERVAL, so only the first and the end.
    assert written == [("last", 1), ("last", 5)]
    state = torch.load(reader.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] == 5


def test_every_epoch_writes_last_pt_when_the_interval_has_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_COST_RATIO", 0.0)
    reader = run(tmp_path, 3)
    assert [e["epoch"] for e in reader.events_of("checkpoint")] == [1, 2, 3]


def test_slow_writes_are_spaced_by_their_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_COST_RATIO", 1e6)
    reader = run(tmp_path, 4)
    assert [e["epoch"] for e in reader.events_of("checkpoint")] == [1, 4]


def test_epoch_time_counts_the_previous_epochs_checkpoint_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_COST_RATIO", 0.0)
    real_save = checkpoint_module.save_checkpoint

    def slow_save(path: Path, state: dict[str, object]) -> None:
        time.sleep(1.0)
        real_save(path, state)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", slow_save)
    reader = run(tmp_path, 3)
    times = list(reader.series("epoch_time").value)
    assert len(times) == 3
    assert min(times[1:]) >= 1.0  # each later period holds one write
    # Nothing was written before epoch 1's results: it lacks the second a write takes. Not
    # an absolute bound: a loaded machine (CI) makes epoch 1 itself take 0.4 s.
    assert times[0] < min(times[1:]) - 0.6
    assert [e["time_s"] for e in reader.events_of("epoch")] == pytest.approx(times)


def test_threads_option_sets_torch_threads(tmp_path: Path) -> None:
    before = torch.get_num_threads()
    try:
        run(tmp_path, 1, "--threads", "1")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("text", ["0", "-2", "two"])
def test_threads_option_rejects_bad_counts(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["x.toml", "--threads", text])
    assert "--threads" in capsys.readouterr().err


def test_busy_machine_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runner.torch, "get_num_threads", lambda: 2)
    cpu = torch.device("cpu")
    hint = runner.busy_cpu_hint(cpu, None)
    assert hint is not None and "--threads 1" in hint and "load 9.0 on 2 cores" in hint
    assert runner.busy_cpu_hint(cpu, 2) is None  # the person chose already
    assert runner.busy_cpu_hint(torch.device("meta"), None) is None  # not a CPU run
    monkeypatch.setattr(runner.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert runner.busy_cpu_hint(cpu, None) is None


def test_threads_from_the_experiment_file(tmp_path: Path) -> None:
    before = torch.get_num_threads()
    path = experiment(tmp_path, 1)
    path.write_text(
        path.read_text(encoding="utf-8").replace("[training]\n", "[training]\nthreads = 1\n"),
        encoding="utf-8",
    )
    try:
        code = main(["run", str(path), "--runs", str(tmp_path / "runs"), "--quiet"])
        assert code == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
