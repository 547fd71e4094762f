"""Setting a run up: device, seeds, data, autocast, the model; one typed bundle, `Setup`.

`prepare` does it in the order a run needs it (the seeds before anything draws
a random number, the model summary's verdict before any model is built) and
picks what trains by the experiment's kind of model: `Supervised` or `Gan`,
each `Trainable`. The loop (`dltui.train.loop`) never asks which kind it has.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import nn

from dltui.data import DataInfo, Splits, load_data
from dltui.model_summary import ModelSummary, summarize_experiment
from dltui.spec import Experiment
from dltui.spec.model import GanModel
from dltui.train.batches import BatchSource, fits_on_device, split_bytes
from dltui.train.compiled import compile_model
from dltui.train.distributed import DistInfo
from dltui.train.errors import ConfigError
from dltui.train.gan import build_gan
from dltui.train.grad_norms import LayerGroups
from dltui.train.records import Recorder
from dltui.train.supervised import Supervised, build_supervised

if TYPE_CHECKING:
    from dltui.train.loop import Trainer


class Trainable(Protocol):
    """What a run trains, one kind per experiment model (`Supervised`, `Gan`)."""

    @property
    def raw_model(self) -> nn.Module:
        """Every trained weight, unwrapped: what checkpoints hold and best weights restore."""

    @property
    def groups(self) -> LayerGroups:
        """Trainable parameters by layer label (gradient norms, checkpoint labels)."""

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers by name; each gets an LR schedule of the same name."""

    @property
    def step_names(self) -> tuple[str, ...]:
        """The losses each step records, as ``train/<name>``."""

    @property
    def batches_per_step(self) -> int:
        """Training batches one step takes (a GAN's discriminator steps)."""

    def per_epoch_tags(self, has_val: bool) -> list[str]:
        """Tags recorded once per epoch: what a monitor may name."""

    def train_epoch(self, run: Trainer) -> dict[str, float]:
        """One pass over the training split; the epoch's values ({} when stopped)."""

    def evaluate(self, run: Trainer, split: str) -> dict[str, float]:
        """Loss and metrics over ``split`` ({} when there is nothing to evaluate)."""

    def after_epoch(self, run: Trainer, epoch: int) -> None:
        """Record what follows the 1-based ``epoch``'s results (samples)."""

    def take_confusion(self) -> list[list[int]] | None:
        """The final test's confusion matrix, when the run has one."""


@dataclass(frozen=True)
class Setup:
    """A run ready to train: on its device, seeded, with its data and model."""

    device: torch.device
    dist: DistInfo
    splits: Splits
    summary: ModelSummary
    """The model `dltui check` and the dashboard describe: one summary, one verdict."""
    part: Trainable
    sources: dict[str, BatchSource]
    """Batches of ``train``, ``val`` and ``test`` on the device."""
    steps_per_epoch: int
    autocast: Callable[[], AbstractContextManager[Any]]
    autocasts: bool
    """Whether ``autocast`` does anything: a step in 32-bit enters no context at all."""
    scaler: torch.amp.GradScaler | None
    """The fp16 loss scaler (None in other precisions)."""
    generators: dict[str, torch.Generator]
    """Seeded device RNGs: ``perm`` (epoch order), ``augment``, ``sample`` (noise, text)."""

    @property
    def info(self) -> DataInfo:
        """What the data is (shapes, task, classes, vocabulary)."""
        return self.splits.info


def prepare(
    experiment: Experiment,
    *,
    device: torch.device,
    dist: DistInfo,
    recorder: Recorder,
    runs_root: Path,
    resuming: bool,
) -> Setup:
    """Seed, load the data, build the model and its optimizers: a run ready for its loop.

    ``resuming``: the weights will come from the run's checkpoint, so ``init_from``
    is not loaded. Raises `ConfigError` for what cannot be trained as written.
    """
    spec = experiment.training
    seed = experiment.seed
    seed_everything(seed, deterministic=spec.deterministic, device=device)
    data_seed = experiment.data.seed if experiment.data.seed is not None else seed
    splits = load_data(experiment.data, data_seed)
    autocast = autocast_context(spec.precision, device)
    scaler = torch.amp.GradScaler("cuda") if spec.precision == "fp16" else None
    generators = {
        name: torch.Generator(device=device).manual_seed(seed + offset)
        for offset, name in enumerate(("perm", "augment", "sample"))
    }
    summary = summarize_experiment(experiment, splits.info)
    if not summary.ok:
        raise ConfigError("; ".join(str(p) for p in summary.problems))
    build = build_gan if isinstance(experiment.model, GanModel) else build_supervised
    part: Trainable = build(
        experiment,
        summary,
        splits,
        recorder=recorder,
        device=device,
        dist=dist,
        runs_root=runs_root,
        init=not resuming,
    )
    sources = batch_sources(experiment, splits, device)
    if len(splits.train) == 0:
        raise ConfigError("data.split.train: the training split is empty")
    if spec.compile and isinstance(part, Supervised):
        part.model = compile_model(part, sources["train"], autocast, recorder)
    n = len(splits.train) // dist.world_size
    batches = max(1, (n + experiment.data.batch_size - 1) // experiment.data.batch_size)
    return Setup(
        device=device,
        dist=dist,
        splits=splits,
        summary=summary,
        part=part,
        sources=sources,
        steps_per_epoch=max(1, batches // part.batches_per_step),
        autocast=autocast,
        autocasts=spec.precision != "32",
        scaler=scaler,
        generators=generators,
    )


def batch_sources(
    experiment: Experiment, splits: Splits, device: torch.device
) -> dict[str, BatchSource]:
    """Each split's batches: resident on the device when all of them fit there."""
    parts = {"train": splits.train, "val": splits.val, "test": splits.test}
    total = sum(split_bytes(split) for split in parts.values())
    data = experiment.data
    resident = data.num_workers == 0 and fits_on_device(total, device)
    return {
        name: BatchSource(
            split,
            device,
            batch_size=data.batch_size,
            resident=resident,
            num_workers=data.num_workers,
        )
        for name, split in parts.items()
    }


def check_monitors(recorded: list[str], monitors: list[tuple[str, str]]) -> None:
    """Refuse a monitor (``(field, tag)``) that names a tag not in ``recorded`` per epoch."""
    for where, tag in monitors:
        if tag not in recorded:
            raise ConfigError(
                f"{where}: {tag!r} is not recorded per epoch by this run; "
                f"it records: {', '.join(recorded)}"
            )


# ----------------------------------------------------------------------------- device and seeds


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda if available, else mps, else cpu; anything else as named (checked)."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"training.device: {name} asked for, but no CUDA GPU is available")
    if (
        device.type == "cuda"
        and device.index is not None
        and device.index >= torch.cuda.device_count()
    ):
        raise ConfigError(
            f"training.device: {name} asked for, but there are {torch.cuda.device_count()} GPUs"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("training.device: mps asked for, but MPS is not available")
    return device


def seed_everything(seed: int, *, deterministic: bool, device: torch.device) -> None:
    """Seed torch, numpy and Python's random; optionally make torch deterministic."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        if device.type == "cuda":
            # cuBLAS needs a fixed workspace for reproducible results.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def autocast_context(
    precision: str, device: torch.device
) -> Callable[[], AbstractContextManager[Any]]:
    """A factory of the autocast context for ``training.precision`` on ``device``."""
    if precision == "32":
        return contextlib.nullcontext
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(
            f"training.precision: fp16 needs a CUDA GPU (this run is on {device.type}); "
            "use bf16 or 32"
        )
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)
