"""The training loop of `dltui run`: one flat loop, data on the device, records on log steps.

Sections: set-up (device, seeds, data, model, optimizer) -> resume -> the epoch
loop (train, validate, early stopping, checkpoints) -> the final test. The hot
loop does no host-device sync for logging: per-step losses stay on the device
as tensors and are read, together with the gradient norms, in one transfer
every ``log_every`` steps.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dltui.data import Splits, augment_batch, load_data
from dltui.model_summary import summarize_experiment
from dltui.runs.control import stop_reason, stop_requested
from dltui.runs.writer import RunWriter
from dltui.spec import Experiment
from dltui.spec.early_stopping import auto_mode
from dltui.spec.model import GanModel
from dltui.train.batches import BatchSource, fits_on_device, split_bytes
from dltui.train.checkpoint import (
    capture_rng,
    link_checkpoint,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from dltui.train.distributed import DistInfo, all_sum, any_true
from dltui.train.early_stopping import EarlyStopping
from dltui.train.losses import build_loss
from dltui.train.metrics import MetricSet
from dltui.train.optim import LrSchedule, build_optimizer
from dltui.train.progress import Progress
from dltui.train.sampling import decode, reference_points, sample_points, sample_text
from dltui.train.signals import StopSignal
from dltui.train.transfer import load_matching, resolve_init_from

# With short epochs, last.pt is rewritten at most every CHECKPOINT_INTERVAL
# seconds, and at most once per CHECKPOINT_COST_RATIO times the write's own
# duration (a write costs < 1/30 of the time); long epochs write every epoch.
CHECKPOINT_INTERVAL = 10.0
CHECKPOINT_COST_RATIO = 30.0


class ConfigError(ValueError):
    """The experiment cannot be trained as written (found while setting up): exit 2."""


@dataclass
class Outcome:
    """How a run ended: ``state`` is finished, stopped or failed."""

    state: str
    reason: str | None = None
    early_stopped: bool = False
    traceback: str | None = None


@dataclass
class LayerGroups:
    """Trainable parameters by layer label, for gradient norms."""

    labels: list[str]
    params: list[list[nn.Parameter]]
    flat: list[nn.Parameter] = field(default_factory=list)
    weights: list[nn.Parameter] = field(default_factory=list)
    """The matrices and kernels of ``flat`` (not biases or norm scales): what L1 penalises."""
    owner: list[int] = field(default_factory=list)
    """The layer index of each parameter of ``flat``."""

    def __post_init__(self) -> None:
        self.flat = [p for group in self.params for p in group]
        self.weights = [p for p in self.flat if p.dim() > 1]
        self.owner = [i for i, group in enumerate(self.params) for _ in group]


@dataclass
class GradNorms:
    """The gradient norm of each parameter that had a gradient, still on the device."""

    norms: torch.Tensor
    present: tuple[bool, ...]
    """Which parameters of `LayerGroups.flat` had a gradient (``norms`` has one per True)."""


# ----------------------------------------------------------------------------- set-up helpers


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


def autocast_context(precision: str, device: torch.device) -> Callable[[], Any]:
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


def layer_groups(stack: Any, prefix: str = "") -> LayerGroups:
    """Trainable parameters of each labelled layer of a LayerStack."""
    labels, params = [], []
    for label, layer in zip(stack.labels, stack.layers, strict=True):
        trainable = [p for p in layer.parameters() if p.requires_grad]
        if trainable:
            labels.append(prefix + label)
            params.append(trainable)
    return LayerGroups(labels, params)


def grad_norms(groups: LayerGroups) -> GradNorms:
    """The L2 norm of every gradient, as one device tensor: no host sync, two kernels.

    Per-layer norms are summed from these on the host (`layer_norms`), after the
    one transfer the log step makes anyway: on a small model, the half-dozen tiny
    device ops that summed them per layer cost more than the norms themselves.
    """
    present = tuple(p.grad is not None for p in groups.flat)
    grads = [p.grad for p in groups.flat if p.grad is not None]
    if not grads:
        return GradNorms(torch.zeros(0), present)
    # In float32 whatever the gradients' precision: a half-precision norm overflows at 65504.
    return GradNorms(torch.stack(torch._foreach_norm(grads, 2, dtype=torch.float32)), present)


def layer_norms(
    groups: LayerGroups, present: tuple[bool, ...], norms: list[float]
) -> tuple[list[float | None], float]:
    """Each layer's gradient norm (None: no gradient this step) and the total, on the host.

    ``norms`` are the values of `grad_norms` for the parameters marked ``present``.
    """
    squares: list[float | None] = [None] * len(groups.params)
    owners = (owner for owner, has in zip(groups.owner, present, strict=True) if has)
    for owner, norm in zip(owners, norms, strict=True):
        squares[owner] = (squares[owner] or 0.0) + norm * norm
    total = math.sqrt(sum(s for s in squares if s is not None))
    return [math.sqrt(s) if s is not None else None for s in squares], total


def weight_l1(groups: LayerGroups) -> torch.Tensor:
    """Sum of |w| over the weights (not biases or norm scales) of trainable layers."""
    return torch.stack([w.abs().sum() for w in groups.weights]).sum()


# ----------------------------------------------------------------------------- the trainer


class Trainer:
    """Trains one experiment; rank 0 records through ``writer``. Call `fit` once."""

    def __init__(
        self,
        experiment: Experiment,
        *,
        writer: RunWriter | None,
        progress: Progress | None,
        device: torch.device,
        epochs: int,
        runs_root: Path,
        stop: StopSignal,
        dist_info: DistInfo | None = None,
        resume_from: Path | None = None,
        experiment_text: str = "",
    ) -> None:
        self.exp = experiment
        self.train_spec = experiment.training
        self.writer = writer
        self.progress = progress
        self.device = device
        self.epochs = epochs
        self.runs_root = runs_root
        self.stop = stop
        self.dist = dist_info or DistInfo()
        self.resume_from = resume_from
        self.experiment_text = experiment_text
        self.run_dir = writer.run_dir if writer is not None else None
        self.step = 0
        self.epoch = 0  # 0-based index of the epoch being trained
        self.step_in_epoch = 0
        self.best_value = math.nan
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.generators: dict[str, torch.Generator] = {}
        self.perm_state: torch.Tensor | None = None
        self.early_stopping: EarlyStopping | None = None
        self.agreed_stop = False
        self._last_write: float | None = None  # perf_counter() when last.pt was written
        self._write_cost = 0.0  # seconds the latest checkpoint write took
        self._last_stale = False  # whether epochs ended since last.pt was written
        self._norms: GradNorms | None = None  # of the latest log step, still on the device
        self._stop_checked = 0.0  # monotonic() of the latest look for a stop file

    # ------------------------------------------------------------------ recording

    def say(self, text: str) -> None:
        """A line for the person (rank 0)."""
        if self.progress is not None:
            self.progress.message(text)

    def record(self, values: dict[str, float], epoch: float | None = None) -> None:
        """Scalars at the current step (rank 0)."""
        if self.writer is not None:
            self.writer.scalars(values, self.step, epoch)

    def event(self, kind: str, **fields: Any) -> None:
        """An event (rank 0)."""
        if self.writer is not None:
            self.writer.event(kind, **fields)

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        """Seeds, data, model, optimizer, schedule, metrics, early stopping; then resume."""
        exp, spec = self.exp, self.train_spec
        seed_everything(exp.seed, deterministic=spec.deterministic, device=self.device)
        data_seed = exp.data.seed if exp.data.seed is not None else exp.seed
        self.splits: Splits = load_data(exp.data, data_seed)
        info = self.splits.info
        self.info = info
        self.autocast = autocast_context(spec.precision, self.device)
        self.scaler = torch.amp.GradScaler("cuda") if spec.precision == "fp16" else None
        self.generators["perm"] = torch.Generator(device=self.device).manual_seed(exp.seed)
        self.generators["augment"] = torch.Generator(device=self.device).manual_seed(exp.seed + 1)
        self.generators["sample"] = torch.Generator(device=self.device).manual_seed(exp.seed + 2)
        # The model `dltui check` and the dashboard describe: one summary, one verdict.
        self.model_summary = summarize_experiment(exp, info)
        if not self.model_summary.ok:
            raise ConfigError("; ".join(str(p) for p in self.model_summary.problems))
        if isinstance(exp.model, GanModel):
            self._setup_gan(exp.model)
        else:
            self._setup_sequential()
        total = sum(split_bytes(s) for s in (self.splits.train, self.splits.val, self.splits.test))
        resident = exp.data.num_workers == 0 and fits_on_device(total, self.device)
        self.sources = {
            name: BatchSource(
                split,
                self.device,
                batch_size=exp.data.batch_size,
                resident=resident,
                num_workers=exp.data.num_workers,
            )
            for name, split in (
                ("train", self.splits.train),
                ("val", self.splits.val),
                ("test", self.splits.test),
            )
        }
        if len(self.splits.train) == 0:
            raise ConfigError("data.split.train: the training split is empty")
        self.steps_per_epoch = self._steps_per_epoch()
        es_spec = exp.early_stopping
        if es_spec is not None:
            self.early_stopping = EarlyStopping(es_spec)
        self.monitor = (
            es_spec.monitor
            if es_spec is not None
            else ("val/loss" if len(self.splits.val) else None)
        )
        self.monitor_mode = (
            es_spec.resolved_mode if es_spec is not None else auto_mode(self.monitor or "loss")
        )
        self._check_monitors()
        if self.resume_from is not None:
            self._resume(self.resume_from)

    def _make_model(self, layers: list[Any], field: str) -> Any:
        from dltui.layers.stack import build_stack

        fed = self.model_summary.inputs[field]
        stack = build_stack(layers, fed.shape, input_dtype=fed.dtype)
        return stack, self.model_summary.stacks[field]

    def _model_event(self, summary: Any, input_shape: tuple[int, ...], part: str | None) -> None:
        rows = [
            {
                "index": r.index,
                "label": r.label,
                "type": r.type,
                "out_shape": list(r.out_shape),
                "params": r.params,
            }
            for r in summary.rows
        ]
        fields: dict[str, Any] = {
            "rows": rows,
            "total_params": summary.total_params,
            "trainable_params": summary.trainable_params,
            "input_shape": list(input_shape),
            "output_shape": list(summary.output_shape) if summary.output_shape else None,
        }
        if part is not None:
            fields["part"] = part
        self.event("model", **fields)

    def _init_and_freeze(
        self, model: nn.Module, init_from: Any, freeze: list[Any], stacks: list[Any]
    ) -> None:
        if init_from is not None and self.resume_from is None:
            path = resolve_init_from(init_from, self.runs_root)
            report = load_matching(model, path, strict=init_from.strict)
            self.say(
                f"init_from {path}: loaded {len(report.loaded)} tensors, "
                f"skipped {len(report.skipped)}"
                + (
                    f" ({'; '.join(report.skipped[:3])}{' ...' if len(report.skipped) > 3 else ''})"
                    if report.skipped
                    else ""
                )
            )
            self.event(
                "init_from",
                path=str(path),
                loaded=len(report.loaded),
                skipped=report.skipped,
                unused=report.unused,
                strict=init_from.strict,
            )
        if freeze:
            for stack in stacks:
                try:
                    stack.freeze(freeze)
                except (KeyError, IndexError, ValueError) as error:
                    raise ConfigError(f"model.freeze: {error}") from None
            frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
            self.say(f"frozen: {', '.join(map(str, freeze))} ({frozen:,} parameters)")
            self.event("freeze", layers=[str(f) for f in freeze], frozen_params=frozen)

    def _setup_sequential(self) -> None:
        exp, spec, info = self.exp, self.train_spec, self.splits.info
        model_spec = exp.sequential
        input_shape = self.model_summary.inputs["model.layers"].shape
        stack, summary = self._make_model(model_spec.layers, "model.layers")
        try:
            self.loss_fn = build_loss(
                spec.loss,
                task=info.task,
                label_smoothing=spec.label_smoothing,
                huber_delta=spec.huber_delta,
            )
        except ValueError as error:
            raise ConfigError(str(error)) from None
        self._model_event(summary, input_shape, None)
        self.stack = stack
        self._init_and_freeze(stack, model_spec.init_from, model_spec.freeze, [stack])
        stack.to(self.device)
        self.raw_model: nn.Module = stack
        self.model: nn.Module = stack
        if self.dist.enabled:
            self.model = nn.parallel.DistributedDataParallel(
                stack, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.groups = layer_groups(stack)
        self.optimizer = build_optimizer(spec.optimizer, self.groups.flat)
        self.optimizers = {"model": self.optimizer}
        self.metric_sets = {
            split: MetricSet(
                spec.metrics,
                task=info.task,
                num_classes=info.num_classes,
                loss=spec.loss,
                device=self.device,
                confusion=split == "test" and len(self.splits.test) > 0,
            )
            for split in ("train", "val", "test")
        }
        self.is_lm = info.task == "language_model"

    def _setup_gan(self, model_spec: GanModel) -> None:
        spec, info = self.train_spec, self.splits.info
        data_shape = tuple(info.input_shape)
        latent = (model_spec.latent_dim,)
        gen, gsum = self._make_model(model_spec.generator, "model.generator")
        disc, dsum = self._make_model(model_spec.discriminator, "model.discriminator")
        self._model_event(gsum, latent, "generator")
        self._model_event(dsum, data_shape, "discriminator")
        if data_shape == (2,) and self.writer is not None:
            # Real points, once: the Samples pane draws the generated ones over them.
            real = reference_points(self.splits.train.x, count=500, seed=self.exp.seed)
            self.event(
                "sample",
                format="points",
                reference=True,
                epoch=0,
                step=0,
                count=len(real),
                points=real,
            )
        pair = nn.ModuleDict({"generator": gen, "discriminator": disc})
        self._init_and_freeze(pair, model_spec.init_from, [], [])
        if model_spec.freeze:
            # Names refer to either stack; a selector must match in one of them.
            for selector in model_spec.freeze:
                done = False
                for stack in (gen, disc):
                    try:
                        stack.freeze([selector])
                        done = True
                    except (KeyError, IndexError, ValueError):
                        continue
                if not done:
                    raise ConfigError(
                        f"model.freeze: {selector!r} names no generator or discriminator layer"
                    )
        pair.to(self.device)
        self.raw_model = pair
        self.gen, self.disc = gen, disc
        self.g_model: nn.Module = gen
        self.d_model: nn.Module = disc
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_model = nn.parallel.DistributedDataParallel(gen, device_ids=ids)
            self.d_model = nn.parallel.DistributedDataParallel(disc, device_ids=ids)
        self.model = pair
        self.g_groups = layer_groups(gen, "generator/")
        self.d_groups = layer_groups(disc, "discriminator/")
        self.groups = LayerGroups(
            self.g_groups.labels + self.d_groups.labels, self.g_groups.params + self.d_groups.params
        )
        self.g_opt = build_optimizer(spec.optimizer, self.g_groups.flat)
        self.d_opt = build_optimizer(spec.optimizer, self.d_groups.flat)
        self.optimizers = {"generator": self.g_opt, "discriminator": self.d_opt}
        self.latent_dim = model_spec.latent_dim
        self.is_lm = False

    def _steps_per_epoch(self) -> int:
        n = len(self.splits.train) // self.dist.world_size
        batches = max(1, (n + self.exp.data.batch_size - 1) // self.exp.data.batch_size)
        if self.exp.is_gan:
            return max(1, batches // self.train_spec.d_steps)
        return batches

    def _recorded_per_epoch(self) -> list[str]:
        """Tags this run records once per epoch (what monitors may name)."""
        names = self.train_spec.metrics
        if self.exp.is_gan:
            return ["train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"]
        tags = ["train/loss"] + [f"train/{m}" for m in names if m != "perplexity"]
        if len(self.splits.val):
            tags += ["val/loss"] + [f"val/{m}" for m in names if m != "perplexity"]
        if self.is_lm:
            tags += ["train/perplexity"] + (["val/perplexity"] if len(self.splits.val) else [])
        return tags

    def _check_monitors(self) -> None:
        recorded = self._recorded_per_epoch()
        self.schedules = {
            name: LrSchedule(
                self.train_spec.schedule,
                opt,
                base_lr=self.train_spec.optimizer.lr,
                epochs=self.epochs,
                steps_per_epoch=self.steps_per_epoch,
            )
            for name, opt in self.optimizers.items()
        }
        checks = []
        if self.early_stopping is not None:
            checks.append(("early_stopping.monitor", self.early_stopping.monitor))
        if self.train_spec.schedule.name == "plateau":
            checks.append(
                ("training.schedule.monitor", next(iter(self.schedules.values())).monitor)
            )
        for where, tag in checks:
            if tag not in recorded:
                raise ConfigError(
                    f"{where}: {tag!r} is not recorded per epoch by this run; "
                    f"it records: {', '.join(recorded)}"
                )

    # ------------------------------------------------------------------ checkpoints

    def checkpoint_state(self, *, mid_epoch: bool) -> dict[str, Any]:
        """Everything needed to continue exactly where the run is now."""
        generators = capture_rng(self.generators)
        if mid_epoch and self.perm_state is not None:
            # The permutation is redrawn from the epoch's start on resume.
            generators["generators"]["perm"] = self.perm_state
        return {
            "model": self.raw_model.state_dict(),
            "optimizer": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedule": {k: s.state_dict() for k, s in self.schedules.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "early_stopping": self.early_stopping.state_dict() if self.early_stopping else {},
            "best": {
                "monitor": self.monitor or "",
                "value": self.best_value,
                "epoch": -1 if self.best_epoch is None else self.best_epoch,
            },
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch if mid_epoch else 0,
            "step": self.step,
            "rng": generators,
            "experiment": self.experiment_text,
            "labels": list(self.groups.labels),
        }

    def save(self, name: str, *, mid_epoch: bool = False) -> None:
        """Write ``checkpoints/<name>.pt`` (rank 0, when checkpoints are on)."""
        if self.writer is None or not self.train_spec.checkpoint:
            return
        began = time.perf_counter()
        path = self.writer.checkpoints_dir / f"{name}.pt"
        # What was recorded up to this step reaches the files before the checkpoint
        # does: a kill just after it must not lose records a resume will not redo.
        self.writer.flush()
        save_checkpoint(path, self.checkpoint_state(mid_epoch=mid_epoch))
        self._write_cost = time.perf_counter() - began
        self.event("checkpoint", which=name, epoch=self.epoch, step=self.step, path=str(path))
        if name == "last":
            self._last_write, self._last_stale = time.perf_counter(), False

    def last_due(self) -> bool:
        """Whether an epoch's end should rewrite last.pt now.

        Every epoch, unless epochs are short: then at most every
        `CHECKPOINT_INTERVAL` seconds, and never more often than keeps writes
        under ``1 / CHECKPOINT_COST_RATIO`` of the time. A crash then loses at
        most that interval; the end of training, a stop and every new best
        write last.pt regardless.
        """
        if self._last_write is None:
            return True
        interval = max(CHECKPOINT_INTERVAL, CHECKPOINT_COST_RATIO * self._write_cost)
        return time.perf_counter() - self._last_write >= interval

    def end_of_epoch_checkpoints(self, improved: bool) -> None:
        """best.pt when the epoch improved (last.pt then is the same file), else last.pt
        when due (see `last_due`)."""
        if improved:
            # best first: a kill in between leaves last.pt at an earlier epoch,
            # which resume redoes, never a last.pt naming a best.pt not written.
            self.save("best")
            self.copy_checkpoint("best", "last")
        elif self.last_due():
            self.save("last")
        else:
            self._last_stale = True

    def copy_checkpoint(self, source: str, name: str) -> None:
        """Make ``checkpoints/<name>.pt`` the same checkpoint as ``<source>.pt``, without
        serialising the state again (a hard link where the filesystem has them).

        Checkpoints are only ever replaced, never rewritten in place, so the
        link keeps the bytes of this moment when ``source`` is next replaced.
        """
        if self.writer is None or not self.train_spec.checkpoint:
            return
        folder = self.writer.checkpoints_dir
        self.writer.flush()  # as in `save`
        link_checkpoint(folder / f"{source}.pt", folder / f"{name}.pt")
        self.event(
            "checkpoint",
            which=name,
            epoch=self.epoch,
            step=self.step,
            path=str(folder / f"{name}.pt"),
        )
        if name == "last":
            self._last_write, self._last_stale = time.perf_counter(), False

    def _resume(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device, follow_links=False)
        self.raw_model.load_state_dict(state["model"])
        for key, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizer"][key])
        for key, sched in self.schedules.items():
            sched.load_state_dict(state["schedule"][key])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.early_stopping is not None and state.get("early_stopping"):
            self.early_stopping.load_state_dict(state["early_stopping"])
        best = state.get("best", {})
        self.best_value = float(best.get("value", math.nan))
        self.best_epoch = None if int(best.get("epoch", -1)) < 0 else int(best["epoch"])
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.step = int(state["step"])
        restore_rng(state["rng"], self.generators)
        best_path = path.parent / "best.pt"
        if best_path.is_file() and best_path != path:
            self.best_state = {
                k: v.to(self.device)
                for k, v in load_checkpoint(best_path, follow_links=False)["model"].items()
            }
        if state.get("experiment") and state["experiment"] != self.experiment_text:
            self.say("note: the experiment file changed since this checkpoint was written")
        self.say(f"resumed from {path}: epoch {self.epoch + 1}, step {self.step}")
        self.event("resumed", checkpoint=str(path), epoch=self.epoch, step=self.step)

    # ------------------------------------------------------------------ the loop

    def fit(self) -> Outcome:
        """Train every epoch, then test the best weights. Returns how the run ended."""
        spec = self.train_spec
        outcome = Outcome("finished")
        # epoch_time is the period between one epoch's results and the next's
        # (the first: since training started), so it also counts the previous
        # epoch's checkpoint writes and samples: what a person waits per epoch,
        # and what the dashboard's ETA multiplies.
        started = time.perf_counter()
        while self.epoch < self.epochs:
            epoch = self.epoch
            if self.progress is not None:
                self.progress.start_epoch(epoch + 1, self.steps_per_epoch)
            if self.exp.is_gan:
                values, failure = self.train_gan_epoch()
            else:
                values, failure = self.train_epoch()
            if failure is not None:
                return Outcome("failed", failure)
            self._poll_stop()
            if self.should_stop():
                self.save("last", mid_epoch=True)
                return Outcome("stopped", self.stop.reason)
            if not self.exp.is_gan:
                values.update(self.evaluate("val"))
            now = time.perf_counter()
            elapsed, started = now - started, now
            lr = next(iter(self.schedules.values())).current
            # Step-logged tags (train/loss, train/g_loss ...) get an _epoch twin per epoch.
            stepped = {"train/loss", "train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"}
            per_epoch = {
                (f"{k}_epoch" if k in stepped else k): v
                for k, v in values.items()
                if k != "train/loss_epoch"
            }
            per_epoch["epoch_time"] = elapsed
            if self.step % spec.log_every:
                # Not when the epoch ended on a log step: that step recorded lr already.
                per_epoch["lr"] = lr
            self.record(per_epoch, epoch=epoch + 1)
            self.event("epoch", epoch=epoch + 1, step=self.step, time_s=elapsed, lr=lr, **values)
            self.say(self._epoch_line(epoch + 1, values, elapsed))
            if self.is_lm:
                self._sample_text(epoch + 1)
            if self.exp.is_gan and (epoch + 1) % spec.sample_every == 0:
                self._sample_points(epoch + 1)
            for sched in self.schedules.values():
                sched.end_epoch(epoch, values)
            improved, decision = self._check_best(epoch + 1, values)
            self.epoch += 1
            self.step_in_epoch = 0
            self.end_of_epoch_checkpoints(improved)
            if decision is not None and decision.stop:
                outcome = Outcome(
                    "finished", f"early stopping: {decision.reason}", early_stopped=True
                )
                self.say(f"early stopping after epoch {epoch + 1}: {decision.reason}")
                break
        if self._last_stale:
            self.save("last")
        self._finish()
        return outcome

    def _epoch_line(self, epoch: int, values: dict[str, float], elapsed: float) -> str:
        parts = [f"epoch {epoch}/{self.epochs}"]
        parts += [f"{k} {v:.4g}" for k, v in values.items() if not k.endswith("_epoch")]
        parts.append(f"{elapsed:.1f}s")
        return "  ".join(parts)

    def _check_best(self, epoch: int, values: dict[str, float]) -> tuple[bool, Any]:
        """Early stopping's check (if any), and whether this epoch is the best so far."""
        decision = None
        if self.early_stopping is not None:
            decision = self.early_stopping.update(epoch, values[self.early_stopping.monitor])
            fields = self.early_stopping.event_fields(epoch, decision)
            # The step says which resume supersedes it (docs/run-format.md).
            self.event("early_stopping", step=self.step, **fields)
            improved = decision.keep_weights
        elif self.monitor is not None:
            value = values[self.monitor]
            best = self.best_value
            improved = math.isfinite(value) and (
                math.isnan(best) or (value < best if self.monitor_mode == "min" else value > best)
            )
        else:
            improved = False
        if improved:
            self.best_value = values[self.monitor] if self.monitor else math.nan
            self.best_epoch = epoch
            # On the device: no sync, and the test reads it back without a file.
            self.best_state = {
                k: v.detach().clone() for k, v in self.raw_model.state_dict().items()
            }
        return improved, decision

    def _finish(self) -> None:
        """Restore the best weights when asked, then the final test on the best weights."""
        es = self.exp.early_stopping
        if self.best_state is not None and (
            es is None or es.restore_best_weights or len(self.splits.test)
        ):
            self.raw_model.load_state_dict(self.best_state)
            if es is not None and es.restore_best_weights:
                self.say(f"restored the best weights (epoch {self.best_epoch})")
                self.event("restore_best_weights", epoch=self.best_epoch)
        if not self.exp.is_gan and len(self.splits.test):
            results = self.evaluate("test")
            which = f"best (epoch {self.best_epoch})" if self.best_state is not None else "last"
            self.record(results, epoch=float(self.epoch))
            self.event("test", weights=which, epoch=self.best_epoch, **results)
            self.say(
                "test (" + which + "): " + "  ".join(f"{k} {v:.4g}" for k, v in results.items())
            )
            matrix = self.metric_sets["test"].take_confusion()
            if matrix is not None:
                self._confusion_event(matrix, which)

    def _confusion_event(self, matrix: list[list[int]], which: str) -> None:
        """The final test's confusion matrix and per-class scores (docs/run-format.md)."""
        from dltui.report.confusion import MAX_RECORDED_CLASSES, confusion_fields

        if len(matrix) > MAX_RECORDED_CLASSES:
            self.say(
                f"confusion matrix not recorded: {len(matrix)} classes "
                f"(at most {MAX_RECORDED_CLASSES})"
            )
            return
        names = self.info.class_names
        if names is None or len(names) != len(matrix):
            names = [str(i) for i in range(len(matrix))]
        fields = confusion_fields(matrix, names)
        self.event("confusion", split="test", weights=which, epoch=self.best_epoch, **fields)

    # ------------------------------------------------------------------ one epoch

    def _epoch_order(self, n: int) -> torch.Tensor | None:
        """This rank's sample order for the epoch (a seeded permutation on the device)."""
        gen = self.generators["perm"]
        self.perm_state = gen.get_state()
        world = self.dist.world_size
        if self.exp.data.shuffle:
            order = torch.randperm(n, generator=gen, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        if world > 1:
            # Every rank must take the same number of steps or DDP would hang.
            order = order[: (n // world) * world][self.dist.rank :: world]
        return order

    def _poll_stop(self) -> None:
        """The stop file (on log steps, at most every 0.2 s) and, under DDP, any rank's request."""
        now = time.monotonic()
        # A stat costs tens of microseconds on some filesystems: once per log step was
        # half a percent of a small model's training time.
        if self.run_dir is not None and not self.stop.requested and now >= self._stop_checked + 0.2:
            self._stop_checked = now
            if stop_requested(self.run_dir):
                reason = stop_reason(self.run_dir) or "stop requested"
                self.stop.request(reason)
                self.say(f"{reason}: stopping after this step")
        # Ranks only stop together, at a log step, or the others would hang.
        if self.dist.enabled and any_true(self.stop.requested, self.dist, self.device):
            self.stop.request(self.stop.reason or "stop requested on another rank")
            self.agreed_stop = True

    def should_stop(self) -> bool:
        """Whether to leave the epoch after this step."""
        return self.agreed_stop if self.dist.enabled else self.stop.requested

    def _log_step(
        self,
        losses: list[torch.Tensor],
        groups: LayerGroups,
        names: list[str],
        samples: int,
        since: float,
        epoch_float: float,
    ) -> tuple[list[float], float]:
        """Read the interval's losses and grad norms in one transfer; record them."""
        parts = [torch.stack(losses).float().reshape(-1)]
        norms = self._norms if self.train_spec.grad_norms else None
        if norms is not None:
            parts.append(norms.norms)
        host = torch.cat(parts).cpu().tolist()
        k = len(losses) * len(names)
        loss_values = host[:k]
        now = time.perf_counter()
        values: dict[str, float] = {}
        per = len(names)
        for i, name in enumerate(names):
            series = loss_values[i::per]
            values[f"train/{name}"] = sum(series) / len(series)
        values["lr"] = next(iter(self.schedules.values())).current
        values["throughput"] = samples * self.dist.world_size / max(now - since, 1e-9)
        if self.device.type == "cuda":
            values["memory/allocated"] = float(torch.cuda.memory_allocated(self.device))
            values["memory/reserved"] = float(torch.cuda.memory_reserved(self.device))
        if norms is not None:
            per_layer, total = layer_norms(groups, norms.present, host[k:])
            for label, norm in zip(groups.labels, per_layer, strict=True):
                values[f"grad_norm/{label}"] = norm if norm is not None else 0.0
            values["grad_norm/total"] = total
        self.record(values, epoch=epoch_float)
        if self.progress is not None:
            self.progress.set_status("  ".join(f"{n} {values[f'train/{n}']:.4g}" for n in names))
        return loss_values, now

    def train_epoch(self) -> tuple[dict[str, float], str | None]:
        """One pass over this rank's shard of the training split."""
        spec, exp = self.train_spec, self.exp
        model, optimizer, loss_fn, scaler = self.model, self.optimizer, self.loss_fn, self.scaler
        schedule = self.schedules["model"]
        source = self.sources["train"]
        metrics = self.metric_sets["train"]
        groups, autocast = self.groups, self.autocast
        augment = exp.data.augment
        aug_gen = self.generators["augment"]
        log_every, l1, clip = spec.log_every, spec.l1, spec.grad_clip
        record_norms = spec.grad_norms
        epoch, first = self.epoch, self.step_in_epoch
        steps = self.steps_per_epoch
        progress = self.progress

        order = self._epoch_order(len(source))
        if first and order is not None:
            order = order[first * source.batch_size :]
        model.train()
        losses: list[torch.Tensor] = []
        epoch_losses: list[float] = []
        interval_samples = epoch_samples = 0
        since = time.perf_counter()
        i = first
        for x, y in source.batches(order):
            if augment is not None:
                x = augment_batch(x, augment, aug_gen)
            schedule.at_step(epoch, i)
            with autocast():
                out = model(x)
                loss = loss_fn(out, y)
                if l1:
                    loss = loss + l1 * weight_l1(groups)
            optimizer.zero_grad(set_to_none=True)
            self.step += 1
            i += 1
            log_now = self.step % log_every == 0
            if scaler is not None:
                scaler.scale(loss).backward()
                if clip is not None or (log_now and record_norms):
                    scaler.unscale_(optimizer)  # clip and record true norms under fp16
            else:
                loss.backward()
            if log_now and record_norms:
                self._norms = grad_norms(groups)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(groups.flat, clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            losses.append(loss.detach())
            if metrics.metrics:
                metrics.update(out, y)
            n = len(y)
            interval_samples += n
            epoch_samples += n
            self.step_in_epoch = i
            if log_now or i == steps:
                epoch_float = epoch + i / steps
                if log_now:
                    recent, since = self._log_step(
                        losses, groups, ["loss"], interval_samples, since, epoch_float
                    )
                    interval_samples = 0
                else:
                    recent = torch.stack(losses).float().cpu().tolist()
                bad = next((j for j, v in enumerate(recent) if not math.isfinite(v)), None)
                if bad is not None:
                    at = self.step - len(recent) + bad + 1
                    return {}, f"loss became {recent[bad]} at step {at}"
                epoch_losses.extend(recent)
                losses = []
                if log_now:
                    self._poll_stop()
            if progress is not None:
                progress.tick(i, epoch_samples)
            if self.should_stop():
                break
        if losses:
            tail = torch.stack(losses).float().cpu().tolist()
            bad = next((j for j, v in enumerate(tail) if not math.isfinite(v)), None)
            if bad is not None:
                return {}, f"loss became {tail[bad]} at step {self.step - len(tail) + bad + 1}"
            epoch_losses.extend(tail)
        if self.should_stop():
            return {}, None
        totals = all_sum(
            torch.tensor(
                [sum(epoch_losses), float(len(epoch_losses))],
                dtype=torch.float64,
                device=self.device,
            ),
            self.dist,
        ).tolist()
        values = {"train/loss": totals[0] / max(1.0, totals[1])}
        values["train/loss_epoch"] = values["train/loss"]
        values.update({f"train/{k}": v for k, v in metrics.compute().items()})
        if self.is_lm:
            values["train/perplexity"] = _perplexity(values["train/loss"])
        return values, None

    @torch.no_grad()
    def evaluate(self, split: str) -> dict[str, float]:
        """Loss and metrics over ``split`` (this rank's shard, summed over ranks)."""
        source = self.sources[split]
        if len(source) == 0:
            return {}
        model, loss_fn, metrics = self.model, self.loss_fn, self.metric_sets[split]
        model.eval()
        order = None
        if self.dist.enabled:
            order = torch.arange(len(source), device=self.device)[
                self.dist.rank :: self.dist.world_size
            ]
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        count = 0
        for x, y in source.batches(order):
            with self.autocast():
                out = model(x)
                loss = loss_fn(out, y)
            total += loss.double() * len(y)
            count += len(y)
            if metrics.active:
                metrics.update(out, y)
        model.train()
        sums = all_sum(
            torch.stack(
                [total, torch.tensor(float(count), dtype=torch.float64, device=self.device)]
            ),
            self.dist,
        ).tolist()
        values = {f"{split}/loss": sums[0] / max(1.0, sums[1])}
        values.update({f"{split}/{k}": v for k, v in metrics.compute().items()})
        if self.is_lm:
            values[f"{split}/perplexity"] = _perplexity(values[f"{split}/loss"])
        return values

    # ------------------------------------------------------------------ GAN epoch

    def train_gan_epoch(self) -> tuple[dict[str, float], str | None]:
        """Alternating steps: ``d_steps`` discriminator steps, then one generator step."""
        spec = self.train_spec
        F = torch.nn.functional
        g_model, d_model, g_opt, d_opt = self.g_model, self.d_model, self.g_opt, self.d_opt
        g_sched, d_sched = self.schedules["generator"], self.schedules["discriminator"]
        source = self.sources["train"]
        log_every, d_steps, clip = spec.log_every, spec.d_steps, spec.grad_clip
        epoch, first, steps = self.epoch, self.step_in_epoch, self.steps_per_epoch
        noise = self.generators["sample"]
        latent = self.latent_dim
        order = self._epoch_order(len(source))
        if first and order is not None:
            order = order[first * d_steps * source.batch_size :]
        g_model.train()
        d_model.train()
        losses: list[torch.Tensor] = []
        epoch_values: list[float] = []
        names = ["d_loss", "g_loss", "d_real", "d_fake"]
        interval_samples = epoch_samples = 0
        since = time.perf_counter()
        batches = source.batches(order)
        i = first
        while i < steps:
            d_step_losses = []
            for _ in range(d_steps):
                try:
                    real, _ = next(batches)
                except StopIteration:
                    break
                b = len(real)
                d_sched.at_step(epoch, i)
                z = torch.randn(b, latent, device=self.device, generator=noise)
                with self.autocast():
                    fake = g_model(z).detach()
                    d_real = d_model(real).reshape(b)
                    d_fake = d_model(fake).reshape(b)
                    d_loss = F.binary_cross_entropy_with_logits(
                        d_real, torch.ones_like(d_real)
                    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
                d_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.d_groups.flat, clip)
                d_opt.step()
                d_step_losses.append(
                    torch.stack(
                        [
                            d_loss.detach(),
                            torch.sigmoid(d_real.detach()).mean(),
                            torch.sigmoid(d_fake.detach()).mean(),
                        ]
                    )
                )
                interval_samples += b
                epoch_samples += b
            if not d_step_losses:
                break
            g_sched.at_step(epoch, i)
            z = torch.randn(source.batch_size, latent, device=self.device, generator=noise)
            with self.autocast():
                # The bare discriminator (not its DDP wrapper): this backward leaves its
                # weights alone, and DDP would wait for gradients that never come.
                scores = self.disc(g_model(z)).reshape(-1)
                # Non-saturating generator loss: maximise log D(G(z)).
                g_loss = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
            g_opt.zero_grad(set_to_none=True)
            # Gradients for the generator only: the discriminator's would be thrown
            # away by its next zero_grad, and would pollute its recorded norms.
            g_loss.backward(inputs=self.g_groups.flat)
            self.step += 1
            i += 1
            log_now = self.step % log_every == 0
            if log_now and spec.grad_norms:
                # The discriminator's grads from its last step are still there.
                self._norms = grad_norms(self.groups)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(self.g_groups.flat, clip)
            g_opt.step()
            d_mean = torch.stack(d_step_losses).mean(0)
            losses.append(torch.stack([d_mean[0], g_loss.detach(), d_mean[1], d_mean[2]]))
            self.step_in_epoch = i
            if log_now or i == steps:
                if log_now:
                    recent, since = self._log_step(
                        losses, self.groups, names, interval_samples, since, epoch + i / steps
                    )
                    interval_samples = 0
                else:
                    recent = torch.stack(losses).float().reshape(-1).cpu().tolist()
                bad = next((j for j, v in enumerate(recent) if not math.isfinite(v)), None)
                if bad is not None:
                    at = self.step - len(losses) + bad // len(names) + 1
                    return {}, f"loss ({names[bad % len(names)]}) became {recent[bad]} at step {at}"
                epoch_values.extend(recent)
                losses = []
                if log_now:
                    self._poll_stop()
            if self.progress is not None:
                self.progress.tick(i, epoch_samples)
            if self.should_stop():
                return {}, None
        per = len(names)
        count = max(1, len(epoch_values) // per)
        sums = [sum(epoch_values[j::per]) for j in range(per)]
        totals = all_sum(
            torch.tensor([*sums, float(count)], dtype=torch.float64, device=self.device), self.dist
        ).tolist()
        return {f"train/{n}": totals[j] / max(1.0, totals[-1]) for j, n in enumerate(names)}, None

    # ------------------------------------------------------------------ samples

    def _sample_text(self, epoch: int) -> None:
        if self.writer is None or not self.info.vocab:
            return
        split = self.splits.val if len(self.splits.val) else self.splits.train
        seed = split.x[0].to(self.device)
        text = sample_text(
            self.raw_model,
            seed,
            self.info.vocab,
            temperature=0.8,
            generator=self.generators["sample"],
        )
        seed_text = decode(split.x[0], self.info.vocab)
        self.event(
            "sample",
            format="text",
            epoch=epoch,
            step=self.step,
            seed=seed_text,
            text=text,
            temperature=0.8,
        )
        self.say(f"sample (epoch {epoch}): {seed_text[-40:]!r} -> {text!r}")

    def _sample_points(self, epoch: int) -> None:
        if self.writer is None:
            return
        points = sample_points(
            self.gen, self.latent_dim, self.device, count=500, rng=self.generators["sample"]
        )
        fields: dict[str, Any] = {"epoch": epoch, "step": self.step, "count": len(points)}
        if len(self.info.input_shape) == 1 and self.info.input_shape[0] == 2:
            fields["format"] = "points"
            fields["points"] = points
        else:
            flat = torch.tensor(points)
            fields["format"] = "stats"
            fields["mean"] = float(flat.mean())
            fields["std"] = float(flat.std())
        self.event("sample", **fields)


def _perplexity(loss: float) -> float:
    return math.exp(loss) if loss < 700 else math.inf
