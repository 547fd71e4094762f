"""The training-settings panel's fields, each taken from the spec models.

The panel shows the options a person changes most — data source and its own
options, split, batch size, loss, optimizer, learning rate, epochs, weight
decay, early stopping — as `SettingField`s: a dotted path in the file plus the
`FieldSpec` read from the pydantic model that validates that path. Which data
options appear depends on the chosen source.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from dltui.builder.fields import FieldSpec, field_spec
from dltui.spec.data import DATA_SOURCES, DataBase, DataSpec, Split
from dltui.spec.early_stopping import EarlyStoppingSpec
from dltui.spec.model import GanModel
from dltui.spec.sweep import Objective, Pruner, SweepSpec
from dltui.spec.training import (
    COMMON_OPTIMIZER_OPTIONS,
    COMMON_SCHEDULE_OPTIONS,
    OPTIMIZER_OPTIONS,
    SCHEDULE_OPTIONS,
    OptimizerSpec,
    ScheduleSpec,
    TrainingSpec,
)

EARLY_STOPPING_SWITCH = "early_stopping"
"""Path of the on/off setting: the ``[early_stopping]`` table's presence enables it."""


@dataclass(frozen=True)
class SettingField:
    """One input of the settings panel: where it writes and what it accepts."""

    path: str
    spec: FieldSpec


@dataclass(frozen=True)
class SettingSection:
    """A titled group of settings."""

    title: str
    fields: tuple[SettingField, ...]


def data_variant(source: str) -> type[DataBase] | None:
    """The ``[data]`` model for ``source`` (e.g. `DigitsData` for ``digits``), or None."""
    union = typing.get_args(DataSpec)[0]
    for cls in typing.get_args(union):
        literal = cls.model_fields["source"].annotation
        if source in typing.get_args(literal):
            return typing.cast(type[DataBase], cls)
    return None


def _field(model: type[BaseModel], name: str, path: str) -> SettingField:
    spec = field_spec(name, model.model_fields[name])
    assert spec is not None, f"{model.__name__}.{name} has no single-input form"
    return SettingField(path, spec)


def settings_sections(raw: Mapping[str, Any]) -> list[SettingSection]:
    """The panel's sections for the document ``raw`` (a plain dict of the file)."""
    data = raw.get("data") if isinstance(raw.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    source = data.get("source")
    source_choice = FieldSpec(
        name="source",
        kind="choice",
        description="Where samples come from.",
        required=True,
        choices=DATA_SOURCES,
    )
    data_fields = [SettingField("data.source", source_choice)]
    variant = data_variant(source) if isinstance(source, str) else None
    if variant is not None:
        for name in variant.model_fields:
            if name in DataBase.model_fields or name == "source":
                continue
            spec = field_spec(name, variant.model_fields[name])
            if spec is not None:
                data_fields.append(SettingField(f"data.{name}", spec))
    for name in ("batch_size", "normalize", "shuffle"):
        data_fields.append(_field(DataBase, name, f"data.{name}"))
    split = tuple(_field(Split, n, f"data.split.{n}") for n in ("train", "val", "test"))
    training = [
        _field(TrainingSpec, "epochs", "training.epochs"),
        _field(TrainingSpec, "loss", "training.loss"),
        _field(TrainingSpec, "metrics", "training.metrics"),
        _field(OptimizerSpec, "name", "training.optimizer.name"),
        _field(OptimizerSpec, "lr", "training.optimizer.lr"),
        _field(OptimizerSpec, "weight_decay", "training.optimizer.weight_decay"),
        _field(ScheduleSpec, "name", "training.schedule.name"),
        _field(TrainingSpec, "grad_clip", "training.grad_clip"),
        _field(TrainingSpec, "device", "training.device"),
    ]
    model = raw.get("model")
    if isinstance(model, Mapping) and model.get("kind") == "gan":
        training.insert(0, _field(GanModel, "latent_dim", "model.latent_dim"))
        training.append(_field(TrainingSpec, "d_steps", "training.d_steps"))
    switch = FieldSpec(
        name="enabled",
        kind="bool",
        description="Stop when the monitored metric stops improving.",
        choices=("true", "false"),
        default=False,
    )
    stopping = [SettingField(EARLY_STOPPING_SWITCH, switch)]
    if isinstance(raw.get("early_stopping"), Mapping):
        for name in ("monitor", "mode", "patience", "min_delta", "restore_best_weights"):
            stopping.append(_field(EarlyStoppingSpec, name, f"early_stopping.{name}"))
    sections = [
        SettingSection("Data", tuple(data_fields)),
        SettingSection("Split", split),
        SettingSection("Training", tuple(training)),
        SettingSection("Early stopping", tuple(stopping)),
    ]
    if isinstance(raw.get("sweep"), Mapping):
        sections.append(SettingSection("Sweep", sweep_fields()))
    return sections


def sweep_fields() -> tuple[SettingField, ...]:
    """The ``[sweep]`` table's settings: how it searches, how long, what it optimises.

    The varied fields (``[sweep.params]``, a distribution each) are edited in the
    file; the form names them (see `varied_params`).
    """
    fields = [
        _field(SweepSpec, "method", "sweep.method"),
        _field(SweepSpec, "trials", "sweep.trials"),
        _field(SweepSpec, "max_minutes", "sweep.max_minutes"),
        _field(SweepSpec, "parallel", "sweep.parallel"),
        _field(Objective, "metric", "sweep.objective.metric"),
        _field(Objective, "direction", "sweep.objective.direction"),
        _field(Objective, "value", "sweep.objective.value"),
        _field(Pruner, "kind", "sweep.pruner.kind"),
        _field(Pruner, "warmup_epochs", "sweep.pruner.warmup_epochs"),
    ]
    # Labelled by their place in the table ("objective.metric"): a bare "kind" says nothing.
    return tuple(
        SettingField(f.path, dataclasses.replace(f.spec, name=f.path.removeprefix("sweep.")))
        for f in fields
    )


def varied_params(raw: Mapping[str, Any]) -> list[str]:
    """The field paths a ``[sweep.params]`` table varies, in the file's order."""
    sweep = raw.get("sweep")
    params = sweep.get("params") if isinstance(sweep, Mapping) else None
    return [str(path) for path in params] if isinstance(params, Mapping) else []


def fields_dropped_by_source(data: Mapping[str, Any], source: str) -> list[str]:
    """Keys of ``data`` that the variant for ``source`` does not accept."""
    variant = data_variant(source)
    if variant is None:
        return []
    return [key for key in data if key not in variant.model_fields]


def options_dropped_by_choice(table: str, current: Mapping[str, Any], name: str) -> list[str]:
    """Options of ``training.optimizer``/``training.schedule`` that ``name`` does not take."""
    if table == "training.optimizer":
        allowed = OPTIMIZER_OPTIONS.get(name, set()) | COMMON_OPTIMIZER_OPTIONS
    elif table == "training.schedule":
        allowed = SCHEDULE_OPTIONS.get(name, set()) | COMMON_SCHEDULE_OPTIONS
    else:
        return []
    return [key for key in current if key not in allowed]
