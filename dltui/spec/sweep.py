"""The ``[sweep]`` table: which fields vary, how they are searched, what is optimised.

```toml
[sweep]
method = "tpe"                 # grid, random, tpe (Bayesian), cmaes, qmc, gp
trials = 20                    # and/or max_minutes = 10
parallel = 2
objective = { metric = "val/accuracy" }   # default: the early-stopping monitor
pruner = { kind = "median", warmup_epochs = 5 }

[sweep.params]
"training.optimizer.lr" = { low = 1e-4, high = 0.1, log = true }
"model.layers[0].out_features" = { low = 16, high = 128, step = 16 }
"model.layers[2].p" = { low = 0.0, high = 0.5 }
"data.batch_size" = { choices = [32, 64, 128] }
```

A parameter is named by its experiment path (as errors name fields). Its
distribution is ``choices``, or a range from ``low`` to ``high``: whole numbers
when both ends are whole (``step`` 1 unless given), real numbers otherwise
(``log = true`` for log-uniform). This module only checks the table's own shape;
`dltui.sweep.check` checks it against the experiment (paths exist, both ends of
every range are accepted by their field, a grid is small enough to run).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from dltui.spec_model import SpecModel

MAX_GRID = 10_000
"""The most grid points a sweep may have."""

Method = Literal["grid", "random", "tpe", "cmaes", "qmc", "gp"]
Scalar = bool | int | float | str


class Distribution(SpecModel):
    """How one field varies: ``choices``, or ``low``..``high`` (with ``step``, ``log``)."""

    choices: list[Scalar] | None = Field(default=None, description="The values to try.")
    low: float | None = Field(default=None, description="The range's lower end (inclusive).")
    high: float | None = Field(default=None, description="The range's upper end (inclusive).")
    step: float | None = Field(default=None, gt=0, description="Spacing of the values tried.")
    log: bool = Field(default=False, description="Sample the range log-uniformly.")
    integer: bool = Field(
        default=False, description="Whole numbers (set by itself when low and high are whole)."
    )

    @model_validator(mode="before")
    @classmethod
    def _whole_ends(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "integer" not in raw:
            ends = [raw.get("low"), raw.get("high")]
            step = raw.get("step")
            whole = all(isinstance(e, int) and not isinstance(e, bool) for e in ends)
            if whole and (step is None or (isinstance(step, int) and not isinstance(step, bool))):
                raw = {**raw, "integer": True}
        return raw

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step is not None or self.log:
                raise ValueError("give either choices, or low and high (with step or log)")
            if not self.choices:
                raise ValueError("choices: give at least one value")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give choices = [...], or both low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log-uniform range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("give step or log = true, not both")
        if self.integer and self.step is not None and not float(self.step).is_integer():
            raise ValueError("a range of whole numbers needs a whole step")
        return self

    @property
    def kind(self) -> Literal["choices", "int", "float"]:
        """``choices``, ``int`` or ``float``."""
        if self.choices is not None:
            return "choices"
        return "int" if self.integer else "float"

    def grid(self) -> list[Scalar] | None:
        """Every value a grid search tries, or None when the range has no step."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.integer:
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        if self.step is None:
            return None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]

    def grid_size(self) -> int | None:
        """How many values `grid` has, without listing them (None without a step)."""
        if self.choices is not None:
            return len(self.choices)
        assert self.low is not None and self.high is not None
        step = self.step or (1 if self.integer else None)
        if step is None:
            return None
        return math.floor((self.high - self.low) / step + 1e-9) + 1

    def ends(self) -> list[Scalar]:
        """The values that must all be valid for the field: both ends, or every choice."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.integer:
            values = self.grid() or []
            return [values[0], values[-1]] if values else []
        return [self.low, self.high]


class Objective(SpecModel):
    """What a trial scores: a recorded metric, which direction is better, which value."""

    metric: str | None = Field(
        default=None, description="A tag recorded per epoch; default: the early-stopping monitor."
    )
    direction: Literal["minimize", "maximize", "auto"] = Field(
        default="auto", description="Better is lower or higher; auto decides by the name."
    )
    value: Literal["best", "last"] = Field(
        default="best", description="The run's best epoch value, or its last."
    )


class Pruner(SpecModel):
    """Stopping unpromising trials early, fed each epoch's objective value."""

    kind: Literal["none", "median", "halving", "hyperband"] = Field(
        default="none", description="median, halving (successive halving), hyperband or none."
    )
    warmup_epochs: int = Field(
        default=3, ge=0, description="Epochs every trial runs before it may be pruned."
    )
    startup_trials: int = Field(
        default=3, ge=0, description="Trials that run in full before pruning starts (median)."
    )
    reduction_factor: int = Field(
        default=3, ge=2, description="halving, hyperband: keep 1 in this many at each rung."
    )


class SweepSpec(SpecModel):
    """A hyper-parameter search over an experiment, run by Optuna."""

    method: Method = Field(
        default="tpe",
        description="grid, random, tpe (Bayesian, the default), cmaes, qmc or gp.",
    )
    params: dict[str, Distribution] = Field(
        description="Experiment field path -> its distribution, e.g. "
        '"training.optimizer.lr" = { low = 1e-4, high = 0.1, log = true }.'
    )
    trials: int | None = Field(
        default=None, ge=1, description="How many trials; default: the grid's size, else 20."
    )
    max_minutes: float | None = Field(
        default=None, gt=0, description="Stop starting trials after this many minutes."
    )
    parallel: int = Field(default=1, ge=1, le=64, description="Trials running at once.")
    seed: int | None = Field(default=None, description="The sampler's seed; default: the file's.")
    objective: Objective = Objective()
    pruner: Pruner = Pruner()

    @field_validator("params")
    @classmethod
    def _some(cls, value: dict[str, Distribution]) -> dict[str, Distribution]:
        if not value:
            raise ValueError('name at least one field to vary, e.g. "training.optimizer.lr"')
        return value

    @model_validator(mode="after")
    def _grid(self) -> SweepSpec:
        if self.method == "grid":
            size = 1
            for path, dist in self.params.items():
                count = dist.grid_size()
                if count is None:
                    raise ValueError(
                        f"params.{path}: a grid needs choices, whole numbers or a step "
                        f"(a real range from {dist.low:g} to {dist.high:g} has no grid)"
                    )
                size *= count
            if size > MAX_GRID:
                raise ValueError(
                    f"the grid has {size:,} points, more than the {MAX_GRID:,} a sweep may run; "
                    'use fewer values, or method = "random" or "tpe"'
                )
            if self.trials is not None and self.trials > size:
                raise ValueError(f"trials = {self.trials}, but the grid has only {size} points")
        return self

    @property
    def grid_size(self) -> int | None:
        """The number of grid points (None unless the method is grid)."""
        if self.method != "grid":
            return None
        return math.prod(d.grid_size() or 0 for d in self.params.values())

    @property
    def trial_budget(self) -> int | None:
        """How many trials to run: ``trials``, else the grid's size, else 20 (None when only
        ``max_minutes`` bounds the sweep)."""
        if self.trials is not None:
            return self.trials
        if self.method == "grid":
            return self.grid_size
        return None if self.max_minutes is not None else 20
