"""Optimizers and the learning-rate schedule of ``[training.optimizer]``/``[training.schedule]``.

The schedule is computed in closed form from (epoch, step) rather than by
chaining torch schedulers: warm-up, per-epoch schedules and the per-step
one-cycle then compose without fighting over ``param_group["lr"]``, and resume
needs no state except the plateau counter.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

import torch

from dltui.spec.early_stopping import auto_mode, metric_tag
from dltui.spec.training import OptimizerSpec, ScheduleSpec, TrainingSpec


def build_optimizer(
    spec: OptimizerSpec, params: Iterable[torch.nn.Parameter]
) -> torch.optim.Optimizer:
    """The optimizer ``spec`` names, over ``params`` (pass only trainable ones), run the
    way ``spec.implementation`` says (``auto`` leaves the choice to torch)."""
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters: every layer is frozen or has no weights")
    common: dict[str, Any] = {"lr": spec.lr, "weight_decay": spec.weight_decay}
    common.update(implementation_options(spec.implementation))
    name = spec.name
    if name == "sgd":
        return torch.optim.SGD(
            params,
            momentum=spec.momentum,
            nesterov=spec.nesterov,
            dampening=spec.dampening,
            **common,
        )
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, betas=spec.betas, eps=spec.eps, amsgrad=spec.amsgrad, **common)
    if name == "nadam":
        return torch.optim.NAdam(params, betas=spec.betas, eps=spec.eps, **common)
    if name == "radam":
        return torch.optim.RAdam(params, betas=spec.betas, eps=spec.eps, **common)
    if name == "rmsprop":
        return torch.optim.RMSprop(
            params,
            momentum=spec.momentum,
            alpha=spec.alpha,
            eps=spec.eps,
            centered=spec.centered,
            **common,
        )
    if name == "adagrad":
        return torch.optim.Adagrad(params, eps=spec.eps, **common)
    raise ValueError(f"training.optimizer.name: unknown optimizer {name!r}")


def implementation_options(implementation: str) -> dict[str, bool]:
    """torch's ``foreach``/``fused`` arguments for ``training.optimizer.implementation``."""
    if implementation == "fused":
        return {"fused": True}
    if implementation == "foreach":
        return {"foreach": True}
    if implementation == "for_loop":
        return {"foreach": False}
    return {}


class LrSchedule:
    """Sets the optimizer's learning rate for each step from the schedule spec.

    Call `at_step(epoch, step_in_epoch)` before the epoch's first step, and before every
    other step while `per_step` (it writes the param groups only when the rate changes),
    and `end_epoch(values)` after validation (the plateau schedule reads its monitor
    there). Epochs are 0-based here. Warm-up ramps linearly per step over
    ``warmup_epochs``; the schedule proper starts after it.
    """

    def __init__(
        self,
        spec: ScheduleSpec,
        optimizer: torch.optim.Optimizer,
        *,
        base_lr: float,
        epochs: int,
        steps_per_epoch: int,
    ) -> None:
        self.spec = spec
        self.optimizer = optimizer
        self.base_lr = base_lr
        self.epochs = epochs
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.warmup = min(spec.warmup_epochs, epochs)
        self.monitor = metric_tag(spec.monitor)
        self.plateau_mode = auto_mode(self.monitor)
        self.plateau_scale = 1.0
        self.plateau_best = math.inf if self.plateau_mode == "min" else -math.inf
        self.plateau_bad = 0
        self.current = math.nan
        self.milestones = sorted(spec.milestones)

    def lr_at(self, epoch: int, step: int) -> float:
        """The learning rate of step ``step`` (0-based, within the epoch) of ``epoch``."""
        spec = self.spec
        if epoch < self.warmup:
            done = epoch * self.steps_per_epoch + step + 1
            return self.base_lr * done / (self.warmup * self.steps_per_epoch)
        e = epoch - self.warmup
        span = max(1, self.epochs - self.warmup)
        name = spec.name
        if name == "constant":
            return self.base_lr
        if name == "step":
            return self.base_lr * spec.gamma ** (e // spec.step_size)
        if name == "multistep":
            # Milestones count epochs of the schedule, like MultiStepLR's.
            return self.base_lr * spec.gamma ** bisect.bisect_right(self.milestones, e)
        if name == "exponential":
            return self.base_lr * spec.gamma**e
        if name == "cosine":
            return (
                spec.min_lr + (self.base_lr - spec.min_lr) * (1 + math.cos(math.pi * e / span)) / 2
            )
        if name == "onecycle":
            return self._one_cycle(e * self.steps_per_epoch + step, span * self.steps_per_epoch)
        if name == "plateau":
            return max(self.base_lr * self.plateau_scale, spec.min_lr)
        raise ValueError(f"training.schedule.name: unknown schedule {name!r}")

    def _one_cycle(self, step: int, total: int) -> float:
        # OneCycleLR's defaults: start at max/25, cosine up for pct_start of the
        # steps, cosine down to start/1e4.
        peak = self.spec.max_lr if self.spec.max_lr is not None else 10 * self.base_lr
        start = peak / 25.0
        end = start / 1e4
        up = max(1.0, self.spec.pct_start * total - 1)
        down = max(1.0, total - 1 - up)
        if step <= up:
            lo, hi, t = start, peak, step / up
        else:
            lo, hi, t = peak, end, min(1.0, (step - up) / down)
        return hi + (lo - hi) * (1 + math.cos(math.pi * t)) / 2

    def per_step(self, epoch: int) -> bool:
        """Whether the rate may change between the steps of 0-based ``epoch`` (warm-up and
        one-cycle); otherwise one `at_step` at the epoch's start sets it for the epoch."""
        return epoch < self.warmup or self.spec.name == "onecycle"

    def at_step(self, epoch: int, step: int) -> float:
        """Set and return the learning rate for this step."""
        lr = self.lr_at(epoch, step)
        if lr != self.current:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.current = lr
        return lr

    def end_epoch(self, epoch: int, values: dict[str, float]) -> None:
        """After validation of 0-based ``epoch``: let the plateau schedule see its monitor."""
        if self.spec.name != "plateau" or epoch < self.warmup:
            return
        if self.monitor not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ValueError(
                f"training.schedule.monitor: {self.monitor!r} is not recorded by this run "
                f"(recorded: {known})"
            )
        value = values[self.monitor]
        # ReduceLROnPlateau's default: relative threshold 1e-4.
        if self.plateau_mode == "min":
            better = value < self.plateau_best * (1 - 1e-4)
        else:
            better = value > self.plateau_best * (1 + 1e-4)
        if better:
            self.plateau_best = value
            self.plateau_bad = 0
        else:
            self.plateau_bad += 1
        if self.plateau_bad > self.spec.patience:
            self.plateau_scale *= self.spec.factor
            self.plateau_bad = 0

    def state_dict(self) -> dict[str, Any]:
        """The plateau counters (everything else follows from epoch and step)."""
        return {
            "plateau_scale": self.plateau_scale,
            "plateau_best": self.plateau_best,
            "plateau_bad": self.plateau_bad,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict`."""
        self.plateau_scale = float(state["plateau_scale"])
        self.plateau_best = float(state["plateau_best"])
        self.plateau_bad = int(state["plateau_bad"])


def build_schedules(
    spec: TrainingSpec,
    optimizers: dict[str, torch.optim.Optimizer],
    *,
    epochs: int,
    steps_per_epoch: int,
) -> dict[str, LrSchedule]:
    """One `LrSchedule` of ``training.schedule`` per optimizer, under the optimizer's name."""
    return {
        name: LrSchedule(
            spec.schedule,
            optimizer,
            base_lr=spec.optimizer.lr,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
        )
        for name, optimizer in optimizers.items()
    }
