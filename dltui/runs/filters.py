"""Which runs a filter keeps: the browser's `/` semantics, for any list of runs.

A free-text needle matches, case-insensitively and as a substring, either an
experiment (its name, file name, tags, description) — then every run of it is
kept — or a run itself (its id, state and device). ``states`` and
``experiments`` narrow further. No Textual, no files read: callers say what an
experiment's words are (the dashboard from its catalog, `dltui ls` from the
runs' frozen experiment files).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar


class FilterableRun(Protocol):
    """What the filter reads of a run (`dltui.runs.RunInfo` has it all)."""

    @property
    def experiment(self) -> str:
        """The experiment's name."""
        ...

    @property
    def run_id(self) -> str:
        """The run's folder name."""
        ...

    @property
    def state(self) -> str:
        """The state as it is now (``dead`` included)."""
        ...

    @property
    def device(self) -> str | None:
        """The device it trains on."""
        ...


R = TypeVar("R", bound=FilterableRun)


def experiment_words(
    name: str,
    *,
    file_name: str | None = None,
    tags: Iterable[str] = (),
    description: str | None = None,
    invalid: bool = False,
) -> str:
    """The text a needle is looked for in to match an experiment (lower case)."""
    words = [name]
    if file_name:
        words.append(file_name)
    words.extend(tags)
    if description:
        words.append(description)
    if invalid:
        words.append("invalid")
    return " ".join(words).lower()


def run_words(run: FilterableRun) -> str:
    """The text a needle is looked for in to match one run (lower case)."""
    return " ".join([run.run_id, run.state, run.device or ""]).lower()


def matches_experiment(name: str, patterns: Sequence[str]) -> bool:
    """Whether ``name`` is one of ``patterns`` (exact names or shell globs such as ``cnn-*``)."""
    return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def filter_runs(
    runs: Iterable[R],
    text: str = "",
    *,
    states: Sequence[str] = (),
    experiments: Sequence[str] = (),
    words_of: Callable[[str], str] | None = None,
) -> list[R]:
    """The runs kept by the needle ``text``, the ``states`` and the ``experiments``, in order.

    ``words_of(experiment)`` gives an experiment's words (default: its name
    only); it is called once per experiment, and only when there is a needle.
    Empty ``states``/``experiments`` keep every state/experiment.
    """
    needle = text.strip().lower()
    wanted_states = {state.lower() for state in states}
    experiment_match: dict[str, bool] = {}
    kept: list[R] = []
    for run in runs:
        if wanted_states and run.state.lower() not in wanted_states:
            continue
        if experiments and not matches_experiment(run.experiment, experiments):
            continue
        if needle:
            whole = experiment_match.get(run.experiment)
            if whole is None:
                words = words_of(run.experiment) if words_of else run.experiment.lower()
                whole = experiment_match[run.experiment] = needle in words
            if not whole and needle not in run_words(run):
                continue
        kept.append(run)
    return kept
