"""Start, stop and resume trainer processes (``dltui run``) for the dashboard.

The training loop never runs in the dashboard's process: each run is its own
OS process in its own session, so it keeps going when the dashboard quits or
the SSH connection drops. This module knows nothing of Textual; the app waits
on `LaunchedRun.process` from a thread worker and turns its exit into a message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.run_format import META, OUTPUT, STATUS

if TYPE_CHECKING:
    from dltui.runs.lock import LockHolder


@dataclass
class LaunchedRun:
    """A trainer process this dashboard started."""

    run_dir: Path
    process: subprocess.Popen[bytes]
    experiment_path: Path | None

    @property
    def pid(self) -> int:
        """The trainer's process id."""
        return self.process.pid


class LaunchError(Exception):
    """The trainer could not be started (the message says why, naming the path)."""


class AlreadyRunning(LaunchError):
    """The run is being written by another process (``holder``), so it was not resumed."""

    def __init__(self, run_dir: Path, holder: LockHolder) -> None:
        super().__init__(
            f"Run {run_dir.name} is already running: {holder.describe()} is writing it."
        )
        self.run_dir = run_dir
        self.holder = holder


def trainer_command(
    experiment_path: Path | None, run_dir: Path, runs_root: Path, *, resume: bool = False
) -> list[str]:
    """The argv of ``dltui run`` for a new run (or a resumed one with ``resume``)."""
    command = [sys.executable, "-m", "dltui", "run"]
    if resume:
        # No FILE: the trainer resumes from the run's own frozen copy of its experiment.
        command += ["--resume", str(run_dir)]
    else:
        assert experiment_path is not None
        command += [str(experiment_path), "--run-dir", str(run_dir)]
    return [*command, "--runs", str(runs_root)]


def _spawn(command: list[str], run_dir: Path, cwd: Path | None) -> subprocess.Popen[bytes]:
    from dltui.runs.files import RunFileError, open_for_append

    log = run_dir / OUTPUT
    env = dict(os.environ)
    # The trainer's progress output goes to a file, not a terminal: keep it line-buffered
    # and free of colour codes so the dashboard's output pane shows clean text.
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("NO_COLOR", "1")
    try:
        # Never through a link: a run's output.log linked elsewhere would grow that file.
        fd = open_for_append(log)
    except (OSError, RunFileError) as exc:
        raise LaunchError(f"cannot start the trainer: {exc}") from None
    try:
        with os.fdopen(fd, "ab") as out:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=cwd,
                env=env,
            )
    except OSError as exc:
        raise LaunchError(f"cannot start {command[0]}: {exc}") from None


def launch(experiment_path: Path, runs_root: Path, *, name: str | None = None) -> LaunchedRun:
    """Start ``dltui run`` on ``experiment_path`` in a new ``runs_root/<experiment>/<id>/``.

    ``name`` is the experiment's display name (default: the file's stem).
    """
    from dltui.runs import new_run_id

    experiment_path = Path(experiment_path).resolve()
    runs_root = Path(runs_root).resolve()
    if not experiment_path.is_file():
        raise LaunchError(f"{experiment_path}: no such experiment file")
    run_dir = runs_root / (name or experiment_path.stem) / new_run_id()
    try:
        run_dir.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise LaunchError(
            f"{run_dir}: cannot create run directory: {exc.strerror or exc}"
        ) from None
    process = _spawn(trainer_command(experiment_path, run_dir, runs_root), run_dir, None)
    return LaunchedRun(run_dir, process, experiment_path)


def resume(run_dir: Path, runs_root: Path) -> LaunchedRun:
    """Start ``dltui run --resume run_dir``: training continues from the last checkpoint.

    Raises `AlreadyRunning` when a process (of this dashboard, another one or a
    shell) is writing the run now: one writer per run.
    """
    from dltui.runs import lock_holder

    run_dir = Path(run_dir).resolve()
    if not run_dir.is_dir():
        raise LaunchError(f"{run_dir}: no such run directory")
    holder = lock_holder(run_dir)
    if holder is not None:
        raise AlreadyRunning(run_dir, holder)
    process = _spawn(
        trainer_command(None, run_dir, Path(runs_root).resolve(), resume=True), run_dir, None
    )
    return LaunchedRun(run_dir, process, None)


def stop(run_dir: Path, pid: int | None = None, host: str | None = None) -> bool:
    """Ask the run in ``run_dir`` to stop: the stop file, plus SIGTERM when it runs here.

    ``pid``/``host`` default to the process the run's records name, and only while
    those records say it is alive: a finished or dead run's pid may belong to an
    unrelated process by now. Returns whether a signal was sent (the stop file
    alone works across machines).
    """
    from dltui.runs import request_stop
    from dltui.runs.control import this_host

    request_stop(run_dir)
    if pid is None:
        pid, host = _live_process(Path(run_dir))
    if pid is None or (host is not None and host != this_host()):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _live_process(run_dir: Path) -> tuple[int | None, str | None]:
    """The (pid, host) of the run's writer while its records say it is alive."""
    from dltui.runs.files import read_json
    from dltui.runs.status import run_status

    def parsed(name: str) -> dict[str, object] | None:
        with contextlib.suppress(OSError, ValueError):
            data = read_json(run_dir / name)
            return data if isinstance(data, dict) else None
        return None

    status = run_status(parsed(STATUS), parsed(META))
    return (status.pid, status.host) if status.alive else (None, None)


def refusal(file_name: str, problems: list[str], shown: int = 5) -> tuple[str, str]:
    """The title and text saying why the experiment ``file_name`` is not started.

    The first ``shown`` problems are listed (as plain text: they quote files), the
    rest counted.
    """
    from dltui.safe_text import printable

    more = f"\n… and {len(problems) - shown} more" if len(problems) > shown else ""
    title = f"Not started: {printable(file_name, keep_newlines=False)} is invalid"
    return title, printable("\n".join(problems[:shown])) + more


def ended_because(run_dir: Path) -> str | None:
    """The reason a trainer that ended wrote into its status.json, if any (read within limits)."""
    from dltui.bounded import loads_json, read_text_limited

    try:
        status = loads_json(read_text_limited(run_dir / STATUS), source="status")
    except (OSError, ValueError):
        return None
    reason = status.get("reason") if isinstance(status, dict) else None
    return reason[:2000] if isinstance(reason, str) and reason.strip() else None


def experiment_name(path: Path) -> str | None:
    """The experiment's ``name`` field when the file sets one (without full validation)."""
    from dltui.bounded import loads_toml, read_text_limited

    try:
        raw = loads_toml(read_text_limited(path), source=str(path))
    except (OSError, ValueError):  # FileLimitError and TOMLDecodeError are ValueErrors
        return None
    name = raw.get("name")
    return name if isinstance(name, str) and name.strip() and "/" not in name else None
