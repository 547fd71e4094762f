"""Which runs a filter keeps, and in what order: the browser's `/` and `o`, for any runs.

A free-text needle matches, case-insensitively and as a substring, either an
experiment (its name, file name, tags, description) — then every run of it is
kept — or a run itself (its id, state and device). ``states`` and
``experiments`` narrow further. No Textual, no files read: callers say what an
experiment's words are (the dashboard from its catalog, `dltui ls` from the
runs' frozen experiment files). `sort_runs` and `experiment_order` are the
orders the browser cycles through (`SORT_MODES`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Protocol, TypeVar

from dltui.run_format import BROKEN, DEAD, FAILED, FINISHED, RUNNING, STARTING, STOPPED


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


class SortableRun(FilterableRun, Protocol):
    """What the orders read of a run besides what the filter reads."""

    @property
    def created(self) -> float | None:
        """When the run was started (unix seconds)."""
        ...

    @property
    def best(self) -> float | None:
        """The best value of the metric it watches."""
        ...

    @property
    def monitor(self) -> str | None:
        """The metric ``best`` is of."""
        ...


R = TypeVar("R", bound=FilterableRun)
S = TypeVar("S", bound=SortableRun)

SortMode = Literal["newest", "name", "best", "status"]
SORT_MODES: tuple[SortMode, ...] = ("newest", "name", "best", "status")
"""The orders the browser cycles through with `o`."""

STATE_ORDER = {RUNNING: 0, STARTING: 1, DEAD: 2, FAILED: 3, STOPPED: 4, FINISHED: 5, BROKEN: 6}
"""Where each state comes in the ``status`` order: what needs a look first (others last)."""
_LAST = 9


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
    # Another tool's run is found by its tool too (``tb``, ``csv``, ``tensorboard``).
    source = getattr(run, "source", None)
    words = [run.run_id, run.state, run.device or ""]
    if source:
        from dltui.logs.sources import source_words

        words.append(source_words(source))
    return " ".join(words).lower()


def needle_of(text: str) -> str:
    """What a filter's text looks for: trimmed, lower case (empty: everything)."""
    return text.strip().lower()


def text_matches(text: str, words: str) -> bool:
    """Whether the filter ``text`` keeps something whose (lower-case) ``words`` these are."""
    needle = needle_of(text)
    return not needle or needle in words


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
    needle = needle_of(text)
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


def sort_runs(
    runs: Iterable[S],
    mode: SortMode,
    *,
    monitor: str | None = None,
    higher_is_better: bool = False,
) -> list[S]:
    """``runs`` in ``mode``'s order: ``newest`` first, by ``name``, ``best`` value, ``status``.

    ``best`` ranks the runs that watch ``monitor`` by their best value (highest
    first when ``higher_is_better``), the others after them; ``status`` puts live
    and failed runs before finished ones (`STATE_ORDER`), newest first within a state.
    """
    if mode == "best":
        sign = -1.0 if higher_is_better else 1.0

        def by_best(run: S) -> tuple[bool, float]:
            usable = run.best is not None and run.monitor == monitor
            return (not usable, sign * run.best if run.best is not None and usable else 0.0)

        return sorted(runs, key=by_best)
    if mode == "status":
        return sorted(runs, key=lambda r: (STATE_ORDER.get(r.state, _LAST), -(r.created or 0)))
    if mode == "name":
        return sorted(runs, key=lambda r: r.run_id)
    return sorted(runs, key=lambda r: -(r.created or 0))


def experiment_order(
    mode: SortMode, name: str, runs: Sequence[SortableRun]
) -> tuple[float | int | str, ...]:
    """The sort key of an experiment and its runs in ``mode``: by ``name``; by the most
    urgent state of its runs (``status``); else the latest activity first."""
    if mode == "name":
        return (name.lower(),)
    if mode == "status":
        return (min((STATE_ORDER.get(r.state, _LAST) for r in runs), default=_LAST), name)
    return (-max((r.created or 0 for r in runs), default=0), name.lower())
