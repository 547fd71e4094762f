"""The ``[training]`` table: loss, optimizer, schedule, regularization, device, metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from dltui.spec.errors import did_you_mean
from dltui.spec_model import FROM_ARRAY, SpecModel

LOSSES = (
    "cross_entropy",
    "nll",
    "bce",
    "bce_with_logits",
    "mse",
    "l1",
    "huber",
    "smooth_l1",
)

# Metric name -> what it is. The trainer maps each to a torchmetrics class.
METRICS: dict[str, str] = {
    "accuracy": "fraction of correct predictions (classification)",
    "top5_accuracy": "fraction with the target among the 5 highest scores",
    "precision": "macro-averaged precision (classification)",
    "recall": "macro-averaged recall (classification)",
    "f1": "macro-averaged F1 score (classification)",
    "auroc": "area under the ROC curve (classification)",
    "mae": "mean absolute error (regression)",
    "mse": "mean squared error (regression)",
    "rmse": "root mean squared error (regression)",
    "r2": "coefficient of determination (regression)",
    "perplexity": "exp(cross-entropy) (language models)",
}

OPTIMIZER_OPTIONS: dict[str, set[str]] = {
    "sgd": {"momentum", "nesterov", "dampening"},
    "adam": {"betas", "eps", "amsgrad"},
    "adamw": {"betas", "eps", "amsgrad"},
    "nadam": {"betas", "eps"},
    "radam": {"betas", "eps"},
    "rmsprop": {"momentum", "alpha", "eps", "centered"},
    "adagrad": {"eps"},
}
COMMON_OPTIMIZER_OPTIONS = {"name", "lr", "weight_decay", "implementation"}

FUSED_OPTIMIZERS = ("sgd", "adam", "adamw", "adagrad")
"""The optimizers torch has one fused kernel for (on CPU and CUDA alike)."""

OPTIMIZER_IMPLEMENTATIONS: dict[str, str] = {
    "auto": "torch's own choice: foreach on CUDA, for-loop on CPU",
    "for_loop": "one parameter at a time (the reference implementation)",
    "foreach": "each update as a few multi-tensor operations (fewer dispatches)",
    "fused": "the whole update in one kernel (sgd, adam, adamw, adagrad)",
}


class OptimizerSpec(SpecModel):
    """The optimizer and its options; ``weight_decay`` is L2 regularization."""

    name: Literal["sgd", "adam", "adamw", "nadam", "radam", "rmsprop", "adagrad"] = Field(
        default="adam", description="The optimization algorithm."
    )
    lr: float = Field(default=1e-3, gt=0, le=10, description="Learning rate.")
    weight_decay: float = Field(default=0.0, ge=0, description="L2 penalty (decoupled in adamw).")
    momentum: float = Field(default=0.0, ge=0, lt=1, description="sgd, rmsprop.")
    nesterov: bool = Field(default=False, description="sgd: Nesterov momentum.")
    dampening: float = Field(default=0.0, ge=0, le=1, description="sgd: momentum dampening.")
    betas: Annotated[tuple[float, float], FROM_ARRAY] = Field(
        default=(0.9, 0.999), description="Adam family: decay of the moment estimates."
    )
    eps: float = Field(default=1e-8, gt=0, description="Added to denominators for stability.")
    amsgrad: bool = Field(default=False, description="adam, adamw: the AMSGrad variant.")
    alpha: float = Field(default=0.99, gt=0, lt=1, description="rmsprop: smoothing constant.")
    centered: bool = Field(default=False, description="rmsprop: centered variant.")
    implementation: Literal["auto", "for_loop", "foreach", "fused"] = Field(
        default="auto",
        description="How the update runs (the same algorithm): auto, for_loop, foreach, or "
        "fused (sgd, adam, adamw, adagrad).",
    )

    @field_validator("betas")
    @classmethod
    def _betas(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= b < 1 for b in value):
            raise ValueError("betas must both be in [0, 1)")
        return value

    @model_validator(mode="after")
    def _options_apply(self) -> OptimizerSpec:
        allowed = OPTIMIZER_OPTIONS[self.name] | COMMON_OPTIMIZER_OPTIONS
        wrong = sorted(self.model_fields_set - allowed)
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} not an option of {self.name} "
                f"(it takes: {', '.join(sorted(allowed - {'name'}))})"
            )
        if self.nesterov and self.momentum <= 0:
            raise ValueError("nesterov needs momentum > 0")
        if self.implementation == "fused" and self.name not in FUSED_OPTIMIZERS:
            raise ValueError(
                f"implementation: {self.name} has no fused kernel (fused: "
                f"{', '.join(FUSED_OPTIMIZERS)}); use foreach"
            )
        return self


SCHEDULE_OPTIONS: dict[str, set[str]] = {
    "constant": set(),
    "step": {"step_size", "gamma"},
    "multistep": {"milestones", "gamma"},
    "exponential": {"gamma"},
    "cosine": {"min_lr"},
    "onecycle": {"max_lr", "pct_start"},
    "plateau": {"factor", "patience", "monitor", "min_lr"},
}
COMMON_SCHEDULE_OPTIONS = {"name", "warmup_epochs"}


class ScheduleSpec(SpecModel):
    """How the learning rate changes. Epoch-based except ``onecycle`` (per step)."""

    name: Literal[
        "constant", "step", "multistep", "exponential", "cosine", "onecycle", "plateau"
    ] = "constant"
    warmup_epochs: int = Field(default=0, ge=0, description="Linear warm-up before the schedule.")
    step_size: int = Field(default=10, ge=1, description="step: epochs between decays.")
    milestones: list[int] = Field(
        default_factory=list, description="multistep: epochs at which to decay."
    )
    gamma: float = Field(default=0.1, gt=0, le=1, description="Decay factor.")
    min_lr: float = Field(default=0.0, ge=0, description="cosine, plateau: the floor.")
    max_lr: float | None = Field(default=None, gt=0, description="onecycle; default 10 x lr.")
    pct_start: float = Field(default=0.3, gt=0, lt=1, description="onecycle: share rising.")
    factor: float = Field(default=0.1, gt=0, lt=1, description="plateau: decay factor.")
    patience: int = Field(default=5, ge=0, description="plateau: epochs without improvement.")
    monitor: str = Field(default="val_loss", description="plateau: the value watched.")

    @model_validator(mode="after")
    def _options_apply(self) -> ScheduleSpec:
        allowed = SCHEDULE_OPTIONS[self.name] | COMMON_SCHEDULE_OPTIONS
        wrong = sorted(self.model_fields_set - allowed)
        if wrong:
            takes = ", ".join(sorted(allowed - {"name"}))
            raise ValueError(f"{', '.join(wrong)} not an option of {self.name} (it takes: {takes})")
        return self


class TrainingSpec(SpecModel):
    """How to train."""

    epochs: int = Field(default=10, ge=1, description="Passes over the training split.")
    loss: Literal[
        "cross_entropy", "nll", "bce", "bce_with_logits", "mse", "l1", "huber", "smooth_l1"
    ] = Field(default="cross_entropy", description="What training minimises.")
    label_smoothing: float = Field(default=0.0, ge=0, lt=1, description="cross_entropy only.")
    huber_delta: float = Field(default=1.0, gt=0, description="huber: where it turns linear.")
    optimizer: OptimizerSpec = Field(default=OptimizerSpec(), description="See below.")
    schedule: ScheduleSpec = Field(default=ScheduleSpec(), description="See below.")
    l1: float = Field(default=0.0, ge=0, description="L1 penalty on weights, added to the loss.")
    grad_clip: float | None = Field(default=None, gt=0, description="Max total gradient norm.")
    precision: Literal["32", "bf16", "fp16"] = Field(
        default="32", description="Mixed precision on CUDA; CPU supports 32 and bf16."
    )
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N or mps.")
    threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for torch's operators (default: one per core); "
        "`dltui run --threads` overrides it.",
    )
    deterministic: bool = Field(
        default=False, description="Deterministic algorithms only (reproducible, slower)."
    )
    metrics: list[str] = Field(default_factory=list, description="Tracked each epoch.")
    log_every: int = Field(default=10, ge=1, description="Steps between recorded step metrics.")
    grad_norms: bool = Field(default=True, description="Record each layer's gradient norm.")
    checkpoint: bool = Field(default=True, description="Write last.pt and best.pt.")
    compile: bool = Field(
        default=False,
        description="torch.compile the model (sequential models): compiled before the first "
        "epoch, which pays for it; training goes on uncompiled, with a message, when it fails.",
    )
    channels_last: bool = Field(
        default=False,
        description="Image models: the model and its batches in channels-last (NHWC) memory "
        "layout, which convolutions are often faster in.",
    )
    d_steps: int = Field(
        default=1, ge=1, description="GAN: discriminator steps per generator step."
    )
    sample_every: int = Field(default=1, ge=1, description="Epochs between generated samples.")

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        ok = value in ("auto", "cpu", "cuda", "mps") or (
            value.startswith("cuda:") and value[5:].isdigit()
        )
        if not ok:
            raise ValueError(f"device must be auto, cpu, cuda, cuda:N or mps, not {value!r}")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in METRICS:
                hint = did_you_mean(name, METRICS)
                raise ValueError(
                    f"unknown metric {name!r}"
                    + (f" ({hint})" if hint else f"; known: {', '.join(METRICS)}")
                )
        if len(set(value)) != len(value):
            raise ValueError("a metric is listed twice")
        return value
