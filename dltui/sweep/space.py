"""The search space of a `SweepSpec`, in Optuna's terms: samplers, pruners, suggestions.

Optuna is imported only inside these functions: `dltui` and `dltui check` never
pay for it, and the dashboard imports it on a worker when a sweep is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dltui.spec.sweep import Distribution, SweepSpec

if TYPE_CHECKING:
    import optuna

# Samplers that need a package Optuna does not install, and which one.
_EXTRA_PACKAGES = {"cmaes": "cmaes", "qmc": "scipy", "gp": "scipy"}


def missing_package(method: str) -> str | None:
    """The package a sampling method needs but this environment lacks, if any."""
    name = _EXTRA_PACKAGES.get(method)
    if name is None:
        return None
    import importlib.util

    return None if importlib.util.find_spec(name) is not None else name


def suggest(trial: optuna.trial.BaseTrial, spec: SweepSpec) -> dict[str, Any]:
    """Ask ``trial`` for a value of every parameter of ``spec``; path -> value."""
    return {path: suggest_one(trial, path, dist) for path, dist in spec.params.items()}


def suggest_one(trial: optuna.trial.BaseTrial, path: str, dist: Distribution) -> Any:
    """One parameter's value, drawn by ``trial`` from ``dist``."""
    if dist.choices is not None:
        return trial.suggest_categorical(path, dist.choices)
    assert dist.low is not None and dist.high is not None
    if dist.integer:
        return trial.suggest_int(
            path, int(dist.low), int(dist.high), step=int(dist.step or 1), log=dist.log
        )
    return trial.suggest_float(path, dist.low, dist.high, step=dist.step, log=dist.log)


def build_sampler(spec: SweepSpec, seed: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of ``spec.method``."""
    import optuna

    method = spec.method
    if method == "grid":
        space = {path: dist.grid() or [] for path, dist in spec.params.items()}
        return optuna.samplers.GridSampler(space, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "tpe":
        # Pruned trials still inform TPE through their intermediate values.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=spec.parallel > 1)
    if method == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if method == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True)
    if method == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise ValueError(f"unknown sweep method {method!r}")


def continued_seed(seed: int, trials_before: int, joining: int | None = None) -> int:
    """The sampler's seed for a worker opening a study that holds ``trials_before`` trials.

    A new study's first worker takes ``seed`` itself, so a sweep run again from the
    start draws the same values. A resumed sweep, or a worker joining another, must
    not: with the same seed its sampler draws trial 0's values, then trial 1's, again.
    Their seed is salted with the trials already there and, for a worker joining a
    live one (``joining``: its pid), with who it is, so that two draw differently.
    """
    if trials_before == 0 and joining is None:
        return seed
    # Tuples of ints hash the same in every process (PYTHONHASHSEED is for str and bytes).
    return hash((seed, trials_before, joining or 0)) & 0x7FFF_FFFF


def build_pruner(spec: SweepSpec, epochs: int) -> optuna.pruners.BasePruner:
    """The Optuna pruner of ``spec.pruner``; its steps are epochs (1-based)."""
    import optuna

    pruner = spec.pruner
    if pruner.kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=pruner.startup_trials, n_warmup_steps=pruner.warmup_epochs
        )
    if pruner.kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=max(1, pruner.warmup_epochs), reduction_factor=pruner.reduction_factor
        )
    if pruner.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, pruner.warmup_epochs),
            max_resource=max(epochs, 1),
            reduction_factor=pruner.reduction_factor,
        )
    return optuna.pruners.NopPruner()
