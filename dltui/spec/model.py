"""The ``[model]`` table: one layer stack, or a GAN's generator and discriminator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from dltui.layers.registry import any_layer_annotation
from dltui.names import name_problem
from dltui.spec.paths import checks_files, path_problem, resolve_path
from dltui.spec_model import FROM_ARRAY, FilePath, SpecModel

AnyLayer = any_layer_annotation()


class InitFrom(SpecModel):
    """Start from weights another run saved (transfer learning).

    Either ``path`` (a checkpoint file or a run directory) or ``experiment``
    (the newest run of that experiment in the runs directory).
    """

    path: FilePath | None = None
    experiment: str | None = None
    checkpoint: Literal["best", "last"] = "best"
    strict: bool = Field(
        default=False,
        description="Fail unless every parameter is loaded; otherwise load those whose names "
        "and shapes match (a new head is fine).",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, raw: Any) -> Any:
        return {"path": raw} if isinstance(raw, str) else raw

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = resolve_path(value, info)
        if path is not None and checks_files(info):
            why = path_problem(path, "file or folder")
            if why is not None:
                raise ValueError(f"{why} (expected a checkpoint file or a run folder)")
        return path

    @field_validator("experiment")
    @classmethod
    def _experiment_name(cls, value: str | None) -> str | None:
        why = name_problem(value) if value is not None else None
        if why is not None:
            # It names the folder runs/<experiment>/ to search.
            raise ValueError(why)
        return value

    @model_validator(mode="after")
    def _one_of(self, info: ValidationInfo) -> InitFrom:
        if (self.path is None) == (self.experiment is None):
            raise ValueError("give exactly one of `path` and `experiment`")
        if self.path is not None and self.path.is_dir() and checks_files(info):
            # The trainer takes checkpoints/<checkpoint>.pt of a run folder.
            checkpoint = self.path / "checkpoints" / f"{self.checkpoint}.pt"
            why = path_problem(checkpoint, "file")
            if why is not None:
                raise ValueError(
                    f"path: {self.path} is a folder without a checkpoints/{self.checkpoint}.pt "
                    f"(is it a run folder? {why})"
                )
        return self


class SequentialModel(SpecModel):
    """Layers applied in order."""

    kind: Literal["sequential"] = "sequential"
    input_shape: Annotated[tuple[int, ...], FROM_ARRAY] | None = Field(
        default=None, description="Per-sample input shape; default: the data's."
    )
    layers: list[AnyLayer] = Field(min_length=1)  # type: ignore[valid-type]
    init_from: InitFrom | None = None
    freeze: list[int | str] = Field(
        default_factory=list, description="Layer indices or names whose weights stay fixed."
    )


class GanModel(SpecModel):
    """A generator mapping noise to samples and a discriminator scoring them (one logit)."""

    kind: Literal["gan"]
    latent_dim: int = Field(default=8, ge=1)
    generator: list[AnyLayer] = Field(min_length=1)  # type: ignore[valid-type]
    discriminator: list[AnyLayer] = Field(min_length=1)  # type: ignore[valid-type]
    init_from: InitFrom | None = None
    freeze: list[int | str] = Field(default_factory=list)


ModelSpec = Annotated[Union[SequentialModel, GanModel], Field(discriminator="kind")]  # noqa: UP007


def with_default_kind(raw: Any) -> Any:
    """``kind`` defaults to ``sequential`` so simple files need not say it."""
    if isinstance(raw, dict) and "kind" not in raw:
        return {**raw, "kind": "sequential"}
    return raw
