"""Hypothesis throws random and malformed input at the loader.

Whatever it gets, the loader returns an `Experiment` or raises `SpecError`;
never a KeyError, TypeError, pydantic error or anything else.
"""

from __future__ import annotations

import copy
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dltui.spec import Experiment, SpecError, parse_experiment

FIELD_NAMES = [
    "name",
    "seed",
    "data",
    "source",
    "samples",
    "noise",
    "split",
    "train",
    "val",
    "test",
    "batch_size",
    "model",
    "kind",
    "layers",
    "type",
    "out_features",
    "dense",
    "relu",
    "training",
    "epochs",
    "loss",
    "optimizer",
    "lr",
    "schedule",
    "metrics",
    "early_stopping",
    "monitor",
    "patience",
    "mode",
    "generator",
    "discriminator",
    "latent_dim",
    "init_from",
    "freeze",
    "augment",
    "path",
    "spirals",
    "gan",
    "sequential",
    "momentum",
    "betas",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(FIELD_NAMES),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=8))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)

VALID: dict[str, Any] = {
    "name": "fuzz",
    "data": {"source": "spirals", "samples": 100, "split": {"train": 0.8, "val": 0.2}},
    "model": {"layers": [{"type": "dense", "out_features": 8}, {"type": "relu"}]},
    "training": {"epochs": 2, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
    "early_stopping": {"monitor": "val_loss", "patience": 2},
}


def _without_none(value: Any) -> Any:
    # TOML has no null.
    if isinstance(value, dict):
        return {str(k): _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def _load(text: str) -> None:
    try:
        result = parse_experiment(text, file="fuzz.toml", check_files=False)
    except SpecError as exc:
        assert exc.problems, "a SpecError must carry at least one problem"
        for problem in exc.problems:
            assert problem.message
            assert problem.file == "fuzz.toml"
    else:
        assert isinstance(result, Experiment)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _load(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, values, max_size=6))
def test_random_tables_never_crash(document: dict[str, Any]) -> None:
    try:
        text = tomlkit.dumps(_without_none(document))
    except Exception:  # not every random structure is TOML (e.g. mixed arrays in old specs)
        return
    _load(text)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_experiment_never_crashes(data: st.DataObject) -> None:
    document = copy.deepcopy(VALID)
    path = data.draw(st.sampled_from(_paths(document)))
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "delete" and isinstance(target, dict):
        del target[path[-1]]
    elif action == "add" and isinstance(target, dict):
        target[data.draw(keys)] = data.draw(values)
    else:
        target[path[-1]] = data.draw(values)
    try:
        text = tomlkit.dumps(_without_none(document))
    except Exception:
        return
    _load(text)


def test_the_valid_base_document_is_valid() -> None:
    experiment = parse_experiment(tomlkit.dumps(VALID), check_files=False)
    assert experiment.training.optimizer.momentum == 0.9
