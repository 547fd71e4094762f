"""Start and stop sweeps (``dltui sweep``) for the dashboard, as `launcher` does runs.

A sweep is its own OS process in its own session, so it goes on when the
dashboard quits; its output goes to ``output.log`` in the sweep's folder.
Stopping is the sweep's stop file (`dltui.sweep.records.request_sweep_stop`),
which every worker polls, on this machine or another. No Textual here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.run_format import OUTPUT
from dltui.tui.launcher import LaunchError

if TYPE_CHECKING:
    from dltui.spec import Experiment
    from dltui.spec.sweep import Distribution


@dataclass
class LaunchedSweep:
    """A sweep process this dashboard started."""

    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        """The sweep's name (its folder's)."""
        return self.folder.name

    @property
    def pid(self) -> int:
        """The sweep's process id."""
        return self.process.pid


def new_sweep_name(now: float | None = None) -> str:
    """A time-based name, as `dltui sweep` gives a sweep started without ``--name``."""
    return "sweep-" + time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def sweep_command(experiment_path: Path, runs_root: Path, name: str) -> list[str]:
    """The argv of ``dltui sweep`` for a new sweep ``name`` of ``experiment_path``."""
    return [
        sys.executable, "-m", "dltui", "sweep", str(experiment_path),
        "--runs", str(runs_root), "--name", name,
    ]  # fmt: skip


def launch_sweep(
    experiment_path: Path, runs_root: Path, experiment: str, name: str | None = None
) -> LaunchedSweep:
    """Start ``dltui sweep`` on ``experiment_path`` (whose runs live under ``experiment``).

    The sweep's folder is made first, for its output log.
    """
    from dltui.runs.files import RunFileError, open_for_append
    from dltui.sweep.records import sweep_dir

    experiment_path = Path(experiment_path).resolve()
    runs_root = Path(runs_root).resolve()
    if not experiment_path.is_file():
        raise LaunchError(f"{experiment_path}: no such experiment file")
    name = name or new_sweep_name()
    folder = sweep_dir(runs_root, experiment, name)
    try:
        folder.mkdir(parents=True, exist_ok=False)
        fd = open_for_append(folder / OUTPUT)
    except (OSError, RunFileError) as exc:
        raise LaunchError(f"{folder}: cannot start the sweep: {exc}") from None
    return LaunchedSweep(folder, _spawn(sweep_command(experiment_path, runs_root, name), fd))


RESUMABLE = ("stopped", "dead", "failed")
"""Sweep states `dltui sweep --resume` carries on from (finished trials are kept)."""


def resume_refusal(name: str, state: str, done: int, budget: int | None) -> str | None:
    """Why the sweep ``name`` in ``state`` is not carried on (None: it may be), in words."""
    if state in RESUMABLE:
        return None
    if state in ("running", "starting"):
        return f"Sweep {name} is already running (S stops it)."
    if state == "finished":
        of = f"{done} of {budget} trials" if budget is not None else f"{done} trials"
        return f"Sweep {name} ran its budget ({of} done): there is nothing to carry on."
    return f"Sweep {name} is {state}: it cannot be carried on."


def resume_sweep(folder: Path, runs_root: Path) -> LaunchedSweep:
    """Start ``dltui sweep --resume NAME`` on the sweep in ``folder``, appending its log."""
    from dltui.runs.files import RunFileError, open_for_append

    folder = Path(folder).resolve()
    command = [
        sys.executable, "-m", "dltui", "sweep", "--resume", folder.name,
        "--experiment", folder.parent.parent.name, "--runs", str(Path(runs_root).resolve()),
    ]  # fmt: skip
    try:
        fd = open_for_append(folder / OUTPUT)
    except (OSError, RunFileError) as exc:
        raise LaunchError(f"{folder}: cannot resume the sweep: {exc}") from None
    return LaunchedSweep(folder, _spawn(command, fd))


def _spawn(command: list[str], fd: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("NO_COLOR", "1")
    try:
        with os.fdopen(fd, "ab") as out:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
    except OSError as exc:
        raise LaunchError(f"cannot start {sys.executable}: {exc}") from None


def stop_sweep(folder: Path) -> None:
    """Ask every worker of the sweep in ``folder`` to stop its trials (they checkpoint)."""
    from dltui.sweep.records import request_sweep_stop

    request_sweep_stop(folder, reason="stopped from the dashboard")


def _distribution(distribution: Distribution) -> str:
    """``2, 4, 16``; ``1e-4 … 0.1, log``; ``8 … 64, step 8``: a distribution in a few words."""
    if distribution.choices is not None:
        return ", ".join(str(c) for c in distribution.choices)
    words = [f"{distribution.low:g} … {distribution.high:g}"]
    if distribution.step is not None:
        words.append(f"step {distribution.step:g}")
    if distribution.log:
        words.append("log")
    return ", ".join(words)


def sweep_question(experiment: Experiment, file_name: str) -> tuple[str, str] | None:
    """The title and text asking to start ``experiment``'s sweep; None when it has none."""
    from dltui.safe_text import printable

    spec = experiment.sweep
    if spec is None:
        return None
    budget = spec.trial_budget
    trials = f"{budget} trials" if budget is not None else "trials"
    if spec.max_minutes is not None:
        trials += f" for at most {spec.max_minutes:g} minutes"
    lines = [
        f"{spec.method} search: {trials}, {spec.parallel} at once, pruner {spec.pruner.kind}.",
        "Varied:",
        *(f"  {path}  {_distribution(d)}" for path, d in spec.params.items()),
        "",
        "Each trial is an ordinary run of this experiment; the sweep keeps going when the "
        "dashboard quits (its output: output.log in its folder under sweeps/), and S stops it.",
    ]
    title = f"Start a sweep of {printable(file_name, keep_newlines=False)}?"
    return title, printable("\n".join(lines))
