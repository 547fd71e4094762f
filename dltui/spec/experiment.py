"""The whole experiment file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from dltui.names import name_problem
from dltui.spec.data import DataSpec
from dltui.spec.early_stopping import EarlyStoppingSpec
from dltui.spec.model import GanModel, ModelSpec, SequentialModel, with_default_kind
from dltui.spec.sweep import SweepSpec
from dltui.spec.training import TrainingSpec
from dltui.spec_model import SpecModel


class Experiment(SpecModel):
    """What to train: data, model, training, early stopping and a seed."""

    name: str | None = Field(
        default=None,
        description="Names the folder of its runs (no '/', '\\', control characters or "
        "leading '.'). Default: the file name without .toml.",
    )
    description: str = Field(default="", description="One line shown in the dashboard.")
    seed: int = Field(default=0, description="Seeds data, initialisation and shuffling.")
    tags: list[str] = Field(default_factory=list, description="Free labels for filtering.")
    data: DataSpec
    model: ModelSpec
    training: TrainingSpec = TrainingSpec()
    early_stopping: EarlyStoppingSpec | None = None
    sweep: SweepSpec | None = Field(
        default=None, description="A hyper-parameter search over this experiment (dltui sweep)."
    )

    _file: Path | None = PrivateAttr(default=None)

    @field_validator("model", mode="before")
    @classmethod
    def _model_kind(cls, raw: Any) -> Any:
        return with_default_kind(raw)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        why = name_problem(value) if value is not None else None
        if why is not None:
            # The runs of this experiment go in runs/<name>/: the writer asks the same.
            raise ValueError(why)
        return value

    @model_validator(mode="after")
    def _gan_fits_training(self) -> Experiment:
        if isinstance(self.model, GanModel) and self.training.precision == "fp16":
            # The GAN loop has two optimizers and no per-optimizer loss scaling yet;
            # fp16 without scaling underflows gradients silently.
            raise ValueError(
                "training.precision: fp16 is not supported for GANs yet (no loss scaling "
                "in the GAN loop); use bf16 or 32"
            )
        if isinstance(self.model, GanModel):
            # The GAN step calls two stacks in turn: these switches are built for one.
            for switch in ("compile", "channels_last"):
                if getattr(self.training, switch):
                    raise ValueError(
                        f"training.{switch}: not supported for GANs yet (sequential models only)"
                    )
        if isinstance(self.model, GanModel) and self.early_stopping is not None:
            monitor = self.early_stopping.monitor
            if monitor.endswith("/loss") and not monitor.startswith(("train/g_", "train/d_")):
                # GAN runs record g_loss and d_loss, not a single loss.
                raise ValueError(
                    "a GAN records train/g_loss and train/d_loss; monitor one of those"
                )
        return self

    @property
    def file(self) -> Path | None:
        """The file this experiment was loaded from, if any."""
        return self._file

    @property
    def display_name(self) -> str:
        """``name``, or the file's stem, or "experiment"."""
        if self.name:
            return self.name
        return self._file.stem if self._file else "experiment"

    @property
    def is_gan(self) -> bool:
        """Whether the model is a generator/discriminator pair."""
        return isinstance(self.model, GanModel)

    @property
    def sequential(self) -> SequentialModel:
        """The model as a layer stack; raises for a GAN."""
        if not isinstance(self.model, SequentialModel):
            raise TypeError("a GAN has two stacks: use model.generator/model.discriminator")
        return self.model
