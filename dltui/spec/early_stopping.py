"""The ``[early_stopping]`` table: the union of Keras' and Lightning's options.

The table's presence enables early stopping. Names follow Keras/Lightning;
``monitor`` takes the names runs record, ``val_loss`` or ``val/loss`` alike.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from dltui.spec_model import SpecModel

_HIGHER_IS_BETTER = ("acc", "precision", "recall", "f1", "auroc", "r2", "auc")


def metric_tag(name: str) -> str:
    """``val_loss`` -> ``val/loss``; names already with a slash are kept."""
    if "/" in name:
        return name
    for split in ("train", "val", "test"):
        if name.startswith(split + "_"):
            return f"{split}/{name[len(split) + 1 :]}"
    return name


def auto_mode(tag: str) -> Literal["min", "max"]:
    """``max`` for metrics where higher is better, ``min`` otherwise (Keras' rule, extended)."""
    leaf = tag.rsplit("/", 1)[-1]
    return "max" if any(word in leaf for word in _HIGHER_IS_BETTER) else "min"


class EarlyStoppingSpec(SpecModel):
    """Stop when the monitored value stops improving; semantics of Keras and Lightning."""

    monitor: str = Field(default="val/loss", description="The recorded value watched.")
    mode: Literal["min", "max", "auto"] = Field(
        default="auto", description="Whether lower or higher is better; auto decides by name."
    )
    min_delta: float = Field(default=0.0, ge=0, description="Smallest change that counts.")
    patience: int = Field(
        default=5, ge=0, description="Checks without improvement before stopping."
    )
    baseline: float | None = Field(default=None, description="A value to beat within patience.")
    start_from_epoch: int = Field(default=0, ge=0, description="Epochs to wait before checking.")
    restore_best_weights: bool = Field(
        default=False, description="End with the best epoch's weights, not the last."
    )
    check_finite: bool = Field(default=True, description="Stop on NaN or infinity.")
    stopping_threshold: float | None = Field(
        default=None, description="Stop as soon as the value is this good."
    )
    divergence_threshold: float | None = Field(
        default=None, description="Stop as soon as the value is this bad."
    )

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("monitor must name a recorded metric, e.g. val_loss")
        return metric_tag(value.strip())

    @field_validator("baseline", "stopping_threshold", "divergence_threshold")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @property
    def resolved_mode(self) -> Literal["min", "max"]:
        """``mode`` with ``auto`` decided from the monitored name."""
        return auto_mode(self.monitor) if self.mode == "auto" else self.mode
