"""A sweep's folder: what it is, who works on it, and how to ask it to stop.

```
runs/<experiment>/sweeps/<name>/
  sweep.json        what the sweep is (written once): file, spec, storage, created
  study.journal     Optuna's study, unless --storage names a database
  workers/<host>-<pid>.json   each worker process's state and heartbeat
  stop              exists = someone asked the sweep to stop
```

Trials are ordinary runs in ``runs/<experiment>/<run-id>/``; their meta.json's
``config.sweep`` names the sweep, the trial number and the sampled values.
Several workers (processes, possibly on several machines sharing a database
storage) may work on one sweep; it is live while any of them is.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltui.bounded import FileLimitError, loads_json, read_bytes_limited
from dltui.run_format import SWEEPS
from dltui.runs.control import is_pid_alive, this_host
from dltui.runs.files import write_json_atomic

SWEEP_FILE = "sweep.json"
JOURNAL = "study.journal"
WORKERS = "workers"
STOP = "stop"
FORMAT = 1
HEARTBEAT = 2.0
STALE_AFTER = 30.0
"""Seconds without a heartbeat after which a worker counts as gone."""


def sweep_dir(runs_root: str | os.PathLike[str], experiment: str, name: str) -> Path:
    """Where the sweep ``name`` of ``experiment`` keeps its records."""
    return Path(runs_root) / experiment / SWEEPS / name


def journal_url(folder: Path) -> str:
    """The default storage: Optuna's journal file inside the sweep's folder."""
    return f"journal:{folder / JOURNAL}"


def write_sweep_file(folder: Path, info: dict[str, Any]) -> None:
    """Write sweep.json (once, atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / SWEEP_FILE, {"format": FORMAT, **info})


def read_sweep_file(folder: Path) -> dict[str, Any]:
    """sweep.json as a dict; raises ValueError (naming the file) when it is unreadable."""
    path = folder / SWEEP_FILE
    try:
        raw = loads_json(read_bytes_limited(path), source=str(path))
    except (OSError, FileLimitError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable sweep file ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ValueError(f"{path}: not a sweep file (no name)")
    return raw


def request_sweep_stop(folder: Path, reason: str | None = None) -> None:
    """Ask every worker of the sweep in ``folder`` to stop its trials and end."""
    write_json_atomic(
        folder / STOP,
        {
            "time": time.time(),
            "host": this_host(),
            "pid": os.getpid(),
            "reason": reason,
        },
    )


def stop_requested(folder: Path) -> bool:
    """Whether someone asked the sweep to stop."""
    return (folder / STOP).exists()


def clear_stop(folder: Path) -> None:
    """Forget a stop request (a resumed sweep starts afresh)."""
    with contextlib.suppress(FileNotFoundError):
        (folder / STOP).unlink()


@dataclass(frozen=True)
class WorkerState:
    """One worker's latest state as its file says, with ``alive`` decided now."""

    host: str
    pid: int
    status: str
    heartbeat: float
    running: tuple[int, ...]
    alive: bool
    budget: int | None = None
    """The trials this worker runs the sweep to (None: only wall time bounds it)."""


def worker_states(folder: Path, now: float | None = None) -> list[WorkerState]:
    """Every worker that has worked on the sweep in ``folder``."""
    now = time.time() if now is None else now
    out: list[WorkerState] = []
    try:
        paths = sorted((folder / WORKERS).glob("*.json"))
    except OSError:
        return out
    for path in paths:
        try:
            raw = loads_json(read_bytes_limited(path, 1 << 16), source=str(path))
        except (OSError, ValueError):
            continue
        if not isinstance(raw, dict):
            continue
        host, pid = raw.get("host"), raw.get("pid")
        heartbeat, status = raw.get("heartbeat"), raw.get("status")
        if not (isinstance(host, str) and isinstance(pid, int) and isinstance(status, str)):
            continue
        beat = float(heartbeat) if isinstance(heartbeat, int | float) else 0.0
        alive = status == "running" and now - beat <= STALE_AFTER
        if alive and host == this_host() and not is_pid_alive(pid):
            alive = False
        running = tuple(t for t in raw.get("running", []) if isinstance(t, int))
        budget = raw.get("budget")
        budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
        out.append(WorkerState(host, pid, status, beat, running, alive, budget))
    return out


class WorkerFile:
    """This process's entry under ``workers/``: status and a heartbeat every 2 s."""

    def __init__(self, folder: Path, budget: int | None = None) -> None:
        """Start beating for this process in the sweep ``folder``; ``budget`` is the trials
        it runs the sweep to (``--trials`` may differ from the file's)."""
        self.path = folder / WORKERS / f"{this_host()}-{os.getpid()}.json"
        self.budget = budget
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.status = "running"
        self.running: set[int] = set()
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.write()
        self._thread = threading.Thread(target=self._beat, name="sweep-heartbeat", daemon=True)
        self._thread.start()

    def write(self) -> None:
        """Write the current state now."""
        with self._lock:
            state = {
                "host": this_host(),
                "pid": os.getpid(),
                "status": self.status,
                "heartbeat": time.time(),
                "running": sorted(self.running),
                "reason": self.reason,
                "budget": self.budget,
            }
        write_json_atomic(self.path, state)

    def _beat(self) -> None:
        while not self._done.wait(HEARTBEAT):
            with contextlib.suppress(OSError):  # a full disk: the next beat tries again
                self.write()

    def close(self, status: str, reason: str | None = None) -> None:
        """Record the final ``status`` (finished, stopped or failed) and stop beating."""
        self._done.set()
        self._thread.join(timeout=5)
        self.status, self.reason = status, reason
        self.running.clear()
        self.write()


def trial_config(name: str, number: int, values: dict[str, Any]) -> str:
    """The JSON a trial's run gets in meta.json's config (``dltui run --meta``)."""
    return json.dumps({"sweep": {"name": name, "trial": number, "params": values}})
