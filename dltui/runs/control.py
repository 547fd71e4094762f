"""Asking a run to stop, and telling whether its writer process still exists.

The dashboard never signals training state through anything but files and
signals: it creates ``<run>/stop``; the trainer checks for it every few steps.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from dltui.run_format import STOP
from dltui.runs.files import write_json_atomic


def request_stop(run_dir: str | os.PathLike[str], reason: str | None = None) -> Path:
    """Ask the run in ``run_dir`` to stop, by creating its ``stop`` file.

    The file holds who asked and when (for the curious); only its existence
    matters. Returns the path of the file. Raises FileNotFoundError when
    ``run_dir`` is not a folder.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such run folder")
    path = folder / STOP
    write_json_atomic(
        path,
        {"time": time.time(), "host": socket.gethostname(), "pid": os.getpid(), "reason": reason},
    )
    return path


def stop_requested(run_dir: str | os.PathLike[str]) -> bool:
    """Whether someone asked the run in ``run_dir`` to stop (one ``stat`` call)."""
    return os.path.exists(os.path.join(run_dir, STOP))


def stop_reason(run_dir: str | os.PathLike[str]) -> str | None:
    """Why the run was asked to stop, as its stop file says (None if it says nothing)."""
    from dltui.bounded import loads_json, read_bytes_limited

    try:
        raw = loads_json(read_bytes_limited(os.path.join(run_dir, STOP), 1 << 16), source=STOP)
    except (OSError, ValueError):
        return None
    reason = raw.get("reason") if isinstance(raw, dict) else None
    return reason[:500] if isinstance(reason, str) and reason.strip() else None


def clear_stop(run_dir: str | os.PathLike[str]) -> bool:
    """Remove a stop request (e.g. before resuming); True if there was one."""
    try:
        os.unlink(os.path.join(run_dir, STOP))
    except FileNotFoundError:
        return False
    return True


def is_pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this host (zombies count as dead)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it just belongs to someone else
    except OSError:
        return False
    # An exited child that nobody has waited for yet still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


_HOSTNAME: str | None = None


def this_host() -> str:
    """This machine's host name, as the writer records it (cached)."""
    global _HOSTNAME
    if _HOSTNAME is None:
        _HOSTNAME = socket.gethostname()
    return _HOSTNAME
