"""Naming runs and tags on the command line: runs by folder, ``experiment/run-id`` or a
unique prefix; tags by name or shell pattern.

``RUN`` arguments of `dltui plot` and `dltui export` are resolved here, against
the runs folder. A name that matches nothing or several runs is an error that
says so and lists the candidates, never a silent guess.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dltui.run_format import META
from dltui.runs.discovery import RunInfo, read_run_info, scan_runs
from dltui.runs.reader import RunReader
from dltui.runs.source import RunSource
from dltui.safe_text import printable

LATEST = "latest"
"""``experiment/latest`` names that experiment's newest run."""

_LISTED = 8
"""Candidates named in an ambiguity error; more are counted."""


class RunNotFound(ValueError):
    """A ``RUN`` argument matches no run, or more than one."""


@dataclass(frozen=True)
class RunChoice:
    """The runs a command works on, in the order they were named, with their labels."""

    runs: list[RunInfo]

    def label(self, run: RunInfo) -> str:
        """How to call ``run`` in charts and tables: the id, with the experiment if needed."""
        ids = [r.run_id for r in self.runs]
        experiments = {r.experiment for r in self.runs}
        if len(experiments) > 1 or ids.count(run.run_id) > 1:
            return full_name(run)
        return run.run_id


@dataclass
class LoadedRun:
    """A chosen run with its records read: its listing entry, its label, its reader."""

    info: RunInfo
    label: str
    reader: RunSource
    """`RunReader` for dltui's runs, `dltui.logs.reader.LogRunReader` for other tools'."""


def _reader_of(info: RunInfo) -> RunSource:
    if info.source:
        from dltui.logs.reader import LogRunReader
        from dltui.logs.runs import log_run_at

        log = log_run_at(info.path)
        if log is not None:
            return LogRunReader(log)
    return RunReader(info.path)


def load_runs(choice: RunChoice) -> list[LoadedRun]:
    """Read every chosen run's records (reading only: nothing is written)."""
    return [LoadedRun(info, choice.label(info), _reader_of(info)) for info in choice.runs]


def log_runs(logdirs: Sequence[str | os.PathLike[str]]) -> list[RunInfo]:
    """The runs other tools logged under ``logdirs`` (TensorBoard, CSV), as listed."""
    if not logdirs:
        return []
    from dltui.logs.runs import list_log_runs

    return list_log_runs(logdirs).runs


def full_name(run: RunInfo) -> str:
    """``experiment/run-id``."""
    return f"{run.experiment}/{run.run_id}"


def resolve_runs(
    names: list[str],
    root: str | os.PathLike[str],
    logdirs: Sequence[str | os.PathLike[str]] = (),
) -> RunChoice:
    """The runs named by ``names`` (each a folder, ``experiment/run-id`` or a prefix).

    Names are looked for among the runs under ``root`` and those other tools logged
    under ``logdirs``; a folder (or Keras CSV file) of another tool's log is a run
    too. Raises `RunNotFound` with one line per name that did not resolve. A run
    named twice is taken once.
    """
    scan: list[RunInfo] | None = None
    found: list[RunInfo] = []
    problems: list[str] = []
    for name in names:
        try:
            run = _as_folder(name)
            if run is None:
                if scan is None:
                    scan = scan_runs(root).runs + log_runs(logdirs)
                run = _by_name(name, scan, Path(root))
        except RunNotFound as error:
            problems.append(str(error))
            continue
        if all(run.path.resolve() != other.path.resolve() for other in found):
            found.append(run)
    if problems:
        raise RunNotFound("\n".join(problems))
    return RunChoice(found)


def _as_folder(name: str) -> RunInfo | None:
    """The run in folder ``name``, None when ``name`` is not a folder at all."""
    folder = Path(name).expanduser()
    shown = printable(name, keep_newlines=False)
    if folder.exists() and not (folder / META).is_file():
        from dltui.logs.runs import log_run_at, log_run_info

        log = log_run_at(folder)
        if log is not None:
            return log_run_info(log)
    if folder.name == LATEST and not folder.exists() and folder.parent.is_dir():
        return _newest_in(folder.parent, shown)
    if not folder.is_dir():
        return None
    if not (folder / META).is_file():
        inside = sorted(p.parent.name for p in folder.glob(f"*/{META}"))
        if inside:
            listed = ", ".join(inside[:_LISTED]) + (" …" if len(inside) > _LISTED else "")
            raise RunNotFound(
                f"{shown}: a folder of {len(inside)} runs, not one run; name one of them "
                f"({listed}), or {shown}/{LATEST} for the newest"
                if len(inside) > 1
                else f"{shown}: a folder of runs, not a run; did you mean {shown}/{inside[0]}?"
            )
        raise RunNotFound(f"{shown}: not a run folder (it has no {META})")
    try:
        return read_run_info(folder)
    except (OSError, ValueError) as error:
        raise RunNotFound(printable(str(error), keep_newlines=False)) from None


def _newest_in(folder: Path, shown: str) -> RunInfo:
    """The newest run directly inside ``folder`` (an experiment's folder of runs)."""
    runs = []
    for meta in folder.glob(f"*/{META}"):
        try:
            runs.append(read_run_info(meta.parent))
        except (OSError, ValueError):
            continue  # a broken run is not the newest one anyone means
    if not runs:
        raise RunNotFound(f"{shown}: no runs in {printable(str(folder), keep_newlines=False)}")
    return max(runs, key=lambda run: (run.created or 0.0, run.run_id))


def _by_name(name: str, runs: list[RunInfo], root: Path) -> RunInfo:
    shown = printable(name, keep_newlines=False)
    text = name.strip().strip("/")
    experiment, slash, rest = text.partition("/")
    if slash and rest == LATEST:
        own = [run for run in runs if run.experiment == experiment]
        if own:
            return max(own, key=lambda run: (run.created or 0.0, run.run_id))
    exact = [run for run in runs if text in (full_name(run), run.run_id)]
    if len(exact) == 1:
        return exact[0]
    candidates = exact or [
        run
        for run in runs
        if full_name(run).startswith(text)
        or (not slash and run.run_id.startswith(text))
        # Another tool's run is named by its path under the log folder: its tail will do.
        or (run.source and full_name(run).endswith("/" + text))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        if slash and rest == LATEST:
            raise RunNotFound(f"{shown}: no runs of experiment {experiment!r} in {root}")
        where = printable(str(root), keep_newlines=False)
        if not root.is_dir() and not runs:
            raise RunNotFound(
                f"{shown}: no run matches: there is no runs folder {where} "
                "(give --runs ROOT, or the run's folder)"
            )
        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        raise RunNotFound(
            f"{shown}: no run matches in {where} ({count}; `dltui ls` lists them), "
            "or give the run's folder"
        )
    listed = ", ".join(full_name(run) for run in candidates[:_LISTED])
    if len(candidates) > _LISTED:
        listed += f" and {len(candidates) - _LISTED} more"
    experiments = {run.experiment for run in candidates}
    hint = (
        f"; {next(iter(experiments))}/{LATEST} is the newest"
        if len(experiments) == 1 and not slash
        else ""
    )
    raise RunNotFound(
        f"{shown}: matches {len(candidates)} runs ({listed}); give more of the id{hint}"
    )


def match_tags(patterns: Sequence[str], present: Sequence[str]) -> tuple[list[str], list[str]]:
    """The tags of ``present`` that ``patterns`` name (exactly or as shell patterns such as
    ``val/*``), in the order named; and the patterns that named none."""
    chosen: list[str] = []
    unmatched: list[str] = []
    for pattern in patterns:
        hits = [tag for tag in present if tag == pattern or fnmatch.fnmatchcase(tag, pattern)]
        if not hits:
            unmatched.append(pattern)
        chosen += [tag for tag in hits if tag not in chosen]
    return chosen, unmatched
