"""The run writer's buffers and the thread that writes them out.

Recording calls append to memory under `Flusher.lock`: events as JSON lines,
scalars as packed records. `Flusher.flush` writes the events, then the records
(so every tag is declared before a record uses it), each append whole or not at
all: a write that fails (a full disk) is cut back off its file and its data kept
for the next try, and the `RunWriteError` is kept in `Flusher.error` until a later
flush succeeds. A background thread flushes every ``flush_interval`` seconds and
keeps status.json's heartbeat fresh every ``heartbeat_interval``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dltui.run_format import EVENTS, SCALARS, STATUS
from dltui.runs.files import (
    RunWriteError,
    open_for_append,
    write_all,
    write_error,
    write_json_atomic,
)


class Flusher:
    """The buffers of one run's event log and scalars, status.json, and their writer thread."""

    def __init__(
        self,
        run_dir: Path,
        state: dict[str, Any],
        *,
        flush_interval: float,
        heartbeat_interval: float,
    ) -> None:
        """Open the run's logs for appending and start the thread; ``state`` is what
        status.json says (its ``step``, ``epoch`` and ``heartbeat`` are kept here)."""
        self.run_dir = run_dir
        self.lock = threading.Lock()
        """Guards the buffers, `state`, `step`, `epoch` (and the writer's tag table)."""
        self._flush_lock = threading.Lock()  # keeps whole flushes in order
        self._status_lock = threading.Lock()  # one status.json writer at a time
        self.events: list[str] = []
        self.records = bytearray()
        """Packed scalar records not yet written (replaced, not emptied, by a flush)."""
        self.state = state
        self.step: int | None = None
        self.epoch: float | None = None
        self.error: BaseException | None = None
        """The last write error (e.g. a full disk) not yet overcome by a later write."""
        self.last_status_write = 0.0
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self._reported: type[BaseException] | None = None
        self._events_fd = open_for_append(run_dir / EVENTS)
        try:
            self._scalars_fd = open_for_append(run_dir / SCALARS)
        except BaseException:
            os.close(self._events_fd)
            raise
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"dltui-run-flusher-{run_dir.name}", daemon=True
        )
        self._thread.start()

    def flush(self) -> None:
        """Write the buffered events, then the buffered scalars, to disk.

        A write that fails is cut back off its file (which so never ends torn by
        it) and its data kept for the next flush; the `RunWriteError` is raised,
        and kept in `error` until a later flush succeeds.
        """
        with self._flush_lock:
            with self.lock:
                if not self.events and not self.records:
                    return
                events, self.events = self.events, []
                records, self.records = self.records, bytearray()
            try:
                if events:
                    self._append_whole(self._events_fd, "".join(events).encode("utf-8"), EVENTS)
                    events = []
                if records:
                    self._append_whole(self._scalars_fd, records, SCALARS)
            except RunWriteError as error:
                with self.lock:
                    # Ahead of what was recorded meanwhile: the order on disk stays the same.
                    self.events[:0] = events
                    self.records[:0] = records
                self.error = error
                raise
            self.error = None

    def _append_whole(self, fd: int, data: bytes | bytearray, name: str) -> None:
        """Append all of ``data`` to ``fd`` or, failing, none of it (the file is cut back)."""
        before = os.fstat(fd).st_size
        try:
            write_all(fd, data)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            raise write_error(error, self.run_dir / name) from None

    def write_status(self) -> None:
        """Rewrite status.json now, with a fresh heartbeat."""
        with self._status_lock:
            with self.lock:
                state = dict(self.state)
                state["step"] = self.step
                state["epoch"] = self.epoch
            now = time.time()
            state["heartbeat"] = now
            try:
                write_json_atomic(self.run_dir / STATUS, state)
            except RunWriteError as error:
                self.error = error
                raise
            self.last_status_write = now

    def _loop(self) -> None:
        while not self._wake.wait(self.flush_interval):
            try:
                self.flush()
                if time.time() - self.last_status_write >= self.heartbeat_interval:
                    self.write_status()
            except RunWriteError:
                # Kept in self.error: the next recording call raises it to its caller,
                # who says it once (the trainer fails with it as the reason).
                continue
            except Exception as error:  # not a write failure: keep recording, say it once
                if self._reported is not type(error):
                    print(f"dltui: cannot write run {self.run_dir}: {error}", file=sys.stderr)
                    self._reported = type(error)

    def stop(self) -> None:
        """Stop the thread (waiting for it, unless this is the thread itself)."""
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    def wake(self) -> None:
        """Let the thread end without waiting for it (at interpreter exit)."""
        self._wake.set()

    def close_files(self) -> None:
        """Close the two logs (errors ignored: nothing is left to write)."""
        for fd in (self._events_fd, self._scalars_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
