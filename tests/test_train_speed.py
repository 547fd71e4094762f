"""The trainer's speed switches (optimizer implementation, compile, channels_last) and the
per-step work it leaves out (the schedule set once per epoch, no autocast in 32-bit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from dltui.checks import check_file
from dltui.cli import main
from dltui.runs import RunReader
from dltui.spec import SpecError, load_experiment, parse_experiment
from dltui.train import optim
from dltui.train.loop import Trainer
from dltui.train.progress import Progress
from dltui.train.signals import StopSignal

EXPERIMENT = """
name = "speed"
seed = 2
[data]
source = "{source}"
{data}
batch_size = 32
split = {{ train = 0.75, val = 0.25 }}
{layers}
[training]
epochs = {epochs}
log_every = 2
grad_norms = true
{training}
[training.optimizer]
name = "{optimizer}"
lr = 0.01
{optimizer_extra}
"""

DENSE = """
[[model.layers]]
type = "dense"
out_features = 8
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dropout"
p = 0.2
[[model.layers]]
type = "dense"
out_features = 2
"""

CONV = """
[[model.layers]]
type = "conv2d"
out_channels = 4
kernel_size = 3
padding = "same"
[[model.layers]]
type = "relu"
[[model.layers]]
type = "conv2d"
out_channels = 4
kernel_size = 3
padding = "same"
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
out_features = 3
"""


def experiment(
    tmp_path: Path,
    *,
    training: str = "",
    optimizer: str = "adam",
    optimizer_extra: str = "",
    epochs: int = 2,
    images: bool = False,
) -> Path:
    path = tmp_path / "speed.toml"
    path.write_text(
        EXPERIMENT.format(
            source="digits" if images else "spirals",
            data="classes = [0, 1, 2]" if images else "samples = 160",
            layers=CONV if images else DENSE,
            epochs=epochs,
            training=training,
            optimizer=optimizer,
            optimizer_extra=optimizer_extra,
        ),
        encoding="utf-8",
    )
    return path


def run(path: Path, root: Path) -> RunReader:
    assert main(["run", str(path), "--runs", str(root), "--quiet"]) == 0
    (run_dir,) = (root / "speed").iterdir()
    reader = RunReader(run_dir)
    reader.poll()
    return reader


def trainer(path: Path, tmp_path: Path) -> Trainer:
    """A set-up trainer without a run directory (nothing recorded)."""
    t = Trainer(
        load_experiment(path),
        writer=None,
        progress=Progress(epochs=1, quiet=True),
        device=torch.device("cpu"),
        epochs=load_experiment(path).training.epochs,
        runs_root=tmp_path,
        stop=StopSignal(),
    )
    t.setup()
    return t


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_experiment(text, file="x.toml", check_files=False)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


# ----------------------------------------------------------------------------- the spec


def test_the_switches_default_to_off_and_auto(tmp_path: Path) -> None:
    spec = load_experiment(experiment(tmp_path)).training
    assert spec.compile is False and spec.channels_last is False
    assert spec.optimizer.implementation == "auto"


@pytest.mark.parametrize(
    ("optimizer", "extra", "where", "words"),
    [
        ("rmsprop", 'implementation = "fused"', "training.optimizer", "rmsprop has no fused"),
        ("adam", 'implementation = "x"', "training.optimizer.implementation", "fused; got 'x'"),
        ("adam", "implementation = 1", "training.optimizer.implementation", ""),
    ],
)
def test_a_bad_implementation_is_refused_by_field(
    tmp_path: Path, optimizer: str, extra: str, where: str, words: str
) -> None:
    text = experiment(tmp_path, optimizer=optimizer, optimizer_extra=extra).read_text()
    (found,) = problems(text)
    assert found.startswith(where) and words in found


@pytest.mark.parametrize("switch", ["compile", "channels_last"])
def test_switches_are_booleans_and_refused_for_gans(tmp_path: Path, switch: str) -> None:
    text = experiment(tmp_path, training=f'{switch} = "maybe"').read_text()
    (found,) = problems(text)
    assert found.startswith(f"training.{switch}")
    gan = Path("experiments/gan-ring.toml").read_text(encoding="utf-8")
    gan = gan.replace("[training]\n", f"[training]\n{switch} = true\n")
    (found,) = problems(gan)
    assert f"training.{switch}: not supported for GANs" in found


def test_channels_last_needs_images(tmp_path: Path) -> None:
    report = check_file(experiment(tmp_path, training="channels_last = true"))
    where = [(p.path, p.message) for p in report.problems]
    assert ("training.channels_last", "needs image samples (C, H, W); this model's are (2,)") in (
        where
    )


# ----------------------------------------------------------------------------- the optimizer


@pytest.mark.parametrize(
    ("name", "implementation", "want"),
    [
        ("adam", "fused", {"fused": True}),
        ("sgd", "fused", {"fused": True}),
        ("adamw", "foreach", {"foreach": True}),
        ("rmsprop", "foreach", {"foreach": True}),
        ("adam", "for_loop", {"foreach": False}),
        ("adam", "auto", {"foreach": None, "fused": None}),
    ],
)
def test_the_optimizer_runs_the_implementation_asked_for(
    tmp_path: Path, name: str, implementation: str, want: dict[str, Any]
) -> None:
    extra = f'implementation = "{implementation}"'
    t = trainer(experiment(tmp_path, optimizer=name, optimizer_extra=extra), tmp_path)
    defaults = t.env.part.optimizers["model"].defaults
    assert {k: defaults.get(k) for k in want} == want


@pytest.mark.slow
def test_a_fused_optimizer_trains_like_the_reference(tmp_path: Path) -> None:
    losses = {}
    for implementation in ("for_loop", "fused"):
        path = experiment(tmp_path, optimizer_extra=f'implementation = "{implementation}"')
        reader = run(path, tmp_path / implementation)
        losses[implementation] = list(reader.series("train/loss").value)
    assert losses["fused"] == pytest.approx(losses["for_loop"], rel=1e-4)


# ----------------------------------------------------------------------------- per-step work


def counting_at_step(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    real = optim.LrSchedule.at_step

    def at_step(self: optim.LrSchedule, epoch: int, step: int) -> float:
        calls.append((epoch, step))
        return real(self, epoch, step)

    monkeypatch.setattr(optim.LrSchedule, "at_step", at_step)
    return calls


def test_a_constant_rate_is_set_once_per_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_at_step(monkeypatch)
    reader = run(experiment(tmp_path, epochs=3), tmp_path / "runs")
    assert calls == [(0, 0), (1, 0), (2, 0)]
    assert set(reader.series("lr").value) == {0.01}


def test_warm_up_still_sets_the_rate_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_at_step(monkeypatch)
    schedule = '[training.schedule]\nname = "cosine"\nwarmup_epochs = 1\n'
    path = experiment(tmp_path, epochs=3)
    path.write_text(path.read_text() + schedule, encoding="utf-8")
    reader = run(path, tmp_path / "runs")
    # 120 training samples: 4 steps per epoch; warm-up's each step, then once per epoch.
    assert calls == [(0, 0), (0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (2, 0)]
    lr = reader.series("lr")
    sched = optim.LrSchedule(
        load_experiment(path).training.schedule,
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01),
        base_lr=0.01,
        epochs=3,
        steps_per_epoch=4,
    )
    # log_every = 2: steps 2, 4 (warm-up), 6, 8, 10, 12; the rate recorded is each step's.
    want = [sched.lr_at((s - 1) // 4, (s - 1) % 4) for s in (2, 4, 6, 8, 10, 12)]
    logged = [v for v, s in zip(lr.value, lr.step, strict=True) if s % 2 == 0]
    assert logged[:6] == pytest.approx(want)


def test_a_32_bit_step_enters_no_autocast_context(tmp_path: Path) -> None:
    t = trainer(experiment(tmp_path), tmp_path)
    entered = []

    def autocast() -> Any:
        entered.append(1)
        return torch.autocast("cpu", enabled=False)

    object.__setattr__(t.env, "autocast", autocast)
    t.env.part.train_epoch(t)
    assert entered == []
    object.__setattr__(t.env, "autocasts", True)
    t.epoch, t.step_in_epoch = 1, 0
    t.env.part.train_epoch(t)
    assert len(entered) == t.env.steps_per_epoch


# ----------------------------------------------------------------------------- compile


def test_a_failing_compile_trains_uncompiled_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_compiler(model: torch.nn.Module, **_: Any) -> torch.nn.Module:
        raise RuntimeError("InvalidCxxCompiler: no working C++ compiler found\nmore detail")

    monkeypatch.setattr(torch, "compile", no_compiler)
    reader = run(experiment(tmp_path, training="compile = true"), tmp_path / "runs")
    assert reader.status.status == "finished"
    log = (reader.run_dir / "output.log").read_text(encoding="utf-8")
    assert (
        "training.compile: torch.compile failed (RuntimeError: InvalidCxxCompiler: no working "
        "C++ compiler found); training the model uncompiled"
    ) in log
    assert "more detail" not in log


def test_a_compile_failing_in_the_backward_falls_back_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BreaksBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            return x.clone()

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("backward lowering failed")

    class Compiled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return BreaksBackward.apply(self.model(x))

    monkeypatch.setattr(torch, "compile", lambda model, **_: Compiled(model))
    t = trainer(experiment(tmp_path, training="compile = true"), tmp_path)
    part = t.env.part
    assert part.model is part.raw_model
    assert all(p.grad is None for p in part.raw_model.parameters())
    part.train_epoch(t)  # trains, uncompiled


@pytest.mark.slow
def test_a_compiled_run_trains_like_an_uncompiled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dynamo without inductor: the compile path in seconds, with the eager numerics.
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda model, **kw: real(model, backend="eager"))
    losses = {}
    for switch in ("false", "true"):
        path = experiment(tmp_path, training=f"compile = {switch}")
        reader = run(path, tmp_path / switch)
        losses[switch] = list(reader.series("train/loss").value)
        state = torch.load(reader.run_dir / "checkpoints" / "last.pt", weights_only=True)
        assert all(not k.startswith("_orig_mod") for k in state["model"])
    # The probe step left the weights, batch-norm statistics and dropout's RNG as they were.
    assert losses["true"] == pytest.approx(losses["false"], rel=1e-5)
    log = (reader.run_dir / "output.log").read_text(encoding="utf-8")
    assert "torch.compile: the model compiled in" in log


# ----------------------------------------------------------------------------- channels_last


@pytest.mark.slow
def test_channels_last_puts_the_weights_and_batches_in_nhwc(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    t = trainer(experiment(tmp_path, images=True, training="channels_last = true"), tmp_path)
    conv = t.env.part.raw_model.layers[2].weight  # (4, 4, 3, 3): the layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    seen = []
    hook = t.env.part.raw_model.layers[0].register_forward_pre_hook(
        lambda module, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    values = t.env.part.train_epoch(t)
    hook.remove()
    assert seen and all(seen)
    assert values["train/loss"] > 0
