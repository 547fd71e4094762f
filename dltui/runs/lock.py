"""One writer per run: an advisory lock on ``<run>/lock`` that the OS drops with its holder.

``flock`` locks belong to the open file, so they are released when the holding
process ends however it ends (``kill -9`` included), and a second writer in the
same process is refused just like one in another process. The file also says who
holds the lock (pid, host, since when), so a refusal can name them; the content is
informational only, the lock is the truth. A child made by ``fork`` (a data loader
worker) closes its inherited copy at once, so the lock never outlives the writer.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dltui.run_format import LOCK
from dltui.runs.files import CLOEXEC, NOFOLLOW, RunFileError, write_error
from dltui.runs.layout import number_or_none
from dltui.safe_text import printable

_RETRY_S = 0.25
"""How long an acquisition retries: a dashboard probing the lock holds it for microseconds."""

_HOLDER_LIMIT = 4096

_held: set[int] = set()
_held_lock = threading.Lock()


def _close_inherited() -> None:
    # In a forked child: the parent's lock must not live on in this copy of its fds.
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a run's lock, as the holder recorded it (fields may be unknown)."""

    pid: int | None
    host: str | None
    since: float | None

    def describe(self) -> str:
        """``pid 4242 on gpu-01 (since 14:03:12)``, with what is known."""
        who = f"pid {self.pid}" if self.pid is not None else "another process"
        if self.host:
            who += f" on {self.host}"
        if self.since is not None:
            who += f" (since {time.strftime('%H:%M:%S', time.localtime(self.since))})"
        return who


class RunLockedError(Exception):
    """Another process is writing the run; ``holder`` says which, ``run_dir`` where."""

    def __init__(self, run_dir: Path, holder: LockHolder) -> None:
        super().__init__(
            f"{run_dir} is already running: {holder.describe()} is writing it; "
            "not starting a second writer"
        )
        self.run_dir = run_dir
        self.holder = holder


class RunLock:
    """The held lock of one run folder; `release` it (exiting does too)."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        """Use :meth:`acquire`."""
        self.run_dir = run_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_dir: str | os.PathLike[str]) -> RunLock:
        """Take the lock of ``run_dir``, or raise `RunLockedError` naming its holder.

        Raises `RunFileError` when ``<run>/lock`` is a symbolic link, and
        `~dltui.runs.files.RunWriteError` when the file cannot be created.
        """
        folder = Path(run_dir)
        path = folder / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | CLOEXEC | NOFOLLOW, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise RunFileError(f"{path}: is a symbolic link; refusing to use it") from None
            raise write_error(error, path) from None
        deadline = time.monotonic() + _RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                holder = _read_holder(fd)
                os.close(fd)
                raise RunLockedError(folder, holder) from None
            except OSError as error:
                os.close(fd)
                raise write_error(error, path) from None
        with _held_lock:
            _held.add(fd)
        record = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        ).encode()
        # Who holds it is a courtesy for the refused: a full disk must not stop the run.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, record + b"\n", 0)
        return cls(folder, fd)

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Give the lock up; releasing twice does nothing.

        Unlocks before closing: a child forked a moment ago may not yet have closed
        its copy of the file, and while any copy is open, closing alone keeps the lock.
        """
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with _held_lock:
            _held.discard(fd)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)


def lock_holder(run_dir: str | os.PathLike[str]) -> LockHolder | None:
    """Who is writing the run in ``run_dir`` now, or None when nobody holds its lock.

    Takes a shared lock for an instant to ask; a writer starting at that moment
    retries (`RunLock.acquire`), so asking never makes a writer fail.
    """
    path = os.path.join(run_dir, LOCK)
    try:
        fd = os.open(path, os.O_RDONLY | CLOEXEC | NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None  # no lock file (nobody ever wrote the run with a lock), or a link
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> LockHolder:
    try:
        data = os.pread(fd, _HOLDER_LIMIT, 0)
        raw = json.loads(data) if data.count(b"[") + data.count(b"{") < 16 else None
    except (OSError, ValueError, RecursionError):
        raw = None
    if not isinstance(raw, dict):
        return LockHolder(None, None, None)
    pid, host, since = raw.get("pid"), raw.get("host"), raw.get("since")
    when = number_or_none(since)
    return LockHolder(
        pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        printable(host[:200], keep_newlines=False) if isinstance(host, str) and host else None,
        when if when is not None and math.isfinite(when) else None,
    )
