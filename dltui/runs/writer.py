"""RunWriter: records one run into its run directory, cheaply and crash-safely.

Calls only append to in-memory buffers; a background thread writes them out
(`dltui.runs.flusher`: events first, then scalars, so every tag is declared
before a record uses it) and keeps the heartbeat in status.json fresh. A
killed process loses at most the last flush interval; what reached the files
is always readable. A writer holds the run's lock (`dltui.runs.lock`) from
start to close, opens its files without following links, and when a write
fails (a full disk) the next recording call raises the `RunWriteError`, so that
training stops instead of going on unrecorded. Resuming a run
(`dltui.runs.reopen`) first mends what a killed writer left.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import struct
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from dltui.run_format import (
    ACTIVE_STATUSES,
    CHECKPOINTS,
    EXPERIMENT,
    FAILED,
    FINISHED,
    META,
    OUTPUT,
    STARTING,
    STATUSES,
    STOPPED,
)
from dltui.runs.control import clear_stop, this_host
from dltui.runs.files import (
    RunWriteError,
    refuse_linked_files,
    write_atomic,
    write_json_atomic,
)
from dltui.runs.flusher import Flusher
from dltui.runs.layout import MAX_TAGS, RECORD_STRUCT, check_name, dumps
from dltui.runs.lock import RunLock
from dltui.runs.run_folder import fresh_folder, new_meta, refuse_existing_run, reopen

_NAN = math.nan


class RunWriter:
    """Writes one run directory (see docs/run-format.md).

    Make one with :meth:`create` (a new run) or :meth:`open` (append to an
    existing run, e.g. on resume); use it as a context manager or call
    :meth:`close`. ``scalar()`` costs about a microsecond: it packs one record
    into a buffer. Buffers reach the disk every ``flush_interval`` seconds
    (default 0.1 s, so the dashboard sees a metric well within 0.25 s), on
    :meth:`flush`, on :meth:`close` and when the interpreter exits.

    Safe to use from one trainer thread (or a few) alongside the flusher thread.
    """

    def __init__(
        self,
        run_dir: Path,
        meta: dict[str, Any],
        tags: dict[str, int],
        *,
        lock: RunLock,
        flush_interval: float = 0.1,
        heartbeat_interval: float = 2.0,
    ) -> None:
        """Prefer :meth:`create` or :meth:`open`; this assumes the folder is ready and locked."""
        if flush_interval <= 0 or heartbeat_interval <= 0:
            raise ValueError("flush_interval and heartbeat_interval must be positive")
        self._dir = run_dir
        self._run_lock = lock
        self._meta = meta
        self._tags = tags
        self._next_tag_id = max(tags.values(), default=-1) + 1
        self._pack = RECORD_STRUCT.pack
        self._closed = False
        self._pid = os.getpid()
        state: dict[str, Any] = {
            "status": STARTING,
            "pid": self._pid,
            "host": this_host(),
            "heartbeat": time.time(),
            "step": None,
            "epoch": None,
            "reason": None,
        }
        self._out = Flusher(
            run_dir, state, flush_interval=flush_interval, heartbeat_interval=heartbeat_interval
        )
        self._lock = self._out.lock  # guards the buffers, the status and the tag table
        self.resumed_from: int | None = None
        """The step a resume (`open`) continues from; None for a new run."""
        atexit.register(self._at_exit)

    # ------------------------------------------------------------------ making

    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        experiment: str,
        *,
        run_id: str | None = None,
        experiment_text: str | None = None,
        source: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | None = None,
        device: str | None = None,
        run_dir: str | os.PathLike[str] | None = None,
        flush_interval: float = 0.1,
        heartbeat_interval: float = 2.0,
    ) -> RunWriter:
        """Start a new run in ``<root>/<experiment>/<run_id>/`` and return its writer.

        Writes meta.json, the frozen ``experiment_text`` as experiment.toml
        (when given), status.json (``starting``) and a ``status`` event.
        ``run_id`` defaults to :func:`new_run_id`. ``run_dir`` overrides the
        folder (a launcher may have created it already for output.log); it must
        not hold a run yet. ``config`` is stored in meta.json as is (JSON).
        ``flush_interval``/``heartbeat_interval``: seconds between background
        writes of the buffers and of status.json's heartbeat.
        Raises FileExistsError when the folder already holds a run,
        `~dltui.runs.lock.RunLockedError` when another process is writing into it,
        `~dltui.runs.files.RunFileError` when its files are links, and
        `~dltui.runs.files.RunWriteError` when it cannot be written.
        """
        check_name(experiment, "experiment")
        if run_dir is not None:
            folder = Path(run_dir)
            folder.mkdir(parents=True, exist_ok=True)
            run_id = folder.name
        elif run_id is not None:
            check_name(run_id, "run_id")
            folder = Path(root) / experiment / run_id
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = fresh_folder(Path(root) / experiment)
            run_id = folder.name
        refuse_existing_run(folder)
        lock = RunLock.acquire(folder)
        try:
            refuse_existing_run(folder)  # again: another writer may have made it meanwhile
            refuse_linked_files(folder)
            (folder / CHECKPOINTS).mkdir(exist_ok=True)
            if experiment_text is not None:
                write_atomic(folder / EXPERIMENT, experiment_text.encode("utf-8"))
        except BaseException:
            lock.release()
            raise
        meta = new_meta(run_id, experiment, source=source, device=device, config=config)
        try:
            writer = cls(
                folder,
                meta,
                {},
                lock=lock,
                flush_interval=flush_interval,
                heartbeat_interval=heartbeat_interval,
            )
        except BaseException:
            lock.release()
            raise
        try:
            writer.status(STARTING)
            # meta.json last: its presence is what makes the folder a run for discovery.
            write_json_atomic(folder / META, meta)
        except BaseException:
            writer._abandon()
            raise
        return writer

    @classmethod
    def open(
        cls,
        run_dir: str | os.PathLike[str],
        *,
        step: int | None = None,
        lock: RunLock | None = None,
        flush_interval: float = 0.1,
        heartbeat_interval: float = 2.0,
    ) -> RunWriter:
        """Append to the existing run in ``run_dir`` (resume).

        ``step``: the step this writer continues from (a trainer's checkpoint).
        What was recorded after it supersedes nothing any more: readers drop the
        points after ``step`` recorded before this resume, and the events that say
        they happened after it (docs/run-format.md). None continues after
        everything recorded (`resumed_from` is then the last step recorded).
        ``lock``: the run's lock when the caller took it already (to read the
        checkpoint under it); otherwise it is taken here.

        Takes the lock, refuses a run whose files are links, cuts a torn last
        line or partial record left by a killed writer, removes its temporary
        files (a checkpoint half written when it was killed) and a stale stop
        request, records a ``resume`` event and sets the status back to
        ``starting`` under this process's pid.
        Raises FileNotFoundError without meta.json, ValueError for a newer format
        or an unreadable meta.json (`~dltui.runs.files.RunFileError` for links),
        `~dltui.runs.lock.RunLockedError` when another process writes the run.
        """
        folder = Path(run_dir)
        meta_path = folder / META
        if not os.path.lexists(meta_path):
            raise FileNotFoundError(f"{folder}: not a run folder (no {META})")
        held = lock if lock is not None else RunLock.acquire(folder)
        try:
            found = reopen(folder, step)
            step = found.step
            writer = cls(
                folder,
                found.meta,
                found.tags,
                lock=held,
                flush_interval=flush_interval,
                heartbeat_interval=heartbeat_interval,
            )
        except BaseException:
            if lock is None:
                held.release()
            raise
        try:
            clear_stop(folder)
            fields: dict[str, Any] = {"pid": os.getpid(), "host": this_host()}
            fields["argv"] = list(sys.argv)
            if step is not None:
                fields["step"] = step
            fields["records"] = found.records
            writer.resumed_from = step
            writer.event("resume", **fields)
            writer.status(STARTING)
        except BaseException:
            writer._abandon()
            raise
        return writer

    # ------------------------------------------------------------- properties

    @property
    def run_dir(self) -> Path:
        """The run's folder."""
        return self._dir

    @property
    def run_id(self) -> str:
        """The run's id: its folder name (what every list shows, whatever meta.json says)."""
        return self._dir.name

    @property
    def meta(self) -> dict[str, Any]:
        """A copy of meta.json's content."""
        return dict(self._meta)

    @property
    def output_path(self) -> Path:
        """Where the process output belongs (written by whoever runs the process)."""
        return self._dir / OUTPUT

    @property
    def checkpoints_dir(self) -> Path:
        """The folder for ``last.pt`` and ``best.pt``."""
        return self._dir / CHECKPOINTS

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    @property
    def error(self) -> BaseException | None:
        """The last write error (e.g. a full disk) not yet overcome by a later write."""
        return self._out.error

    # ---------------------------------------------------------------- record

    def scalar(self, tag: str, value: float, step: int, epoch: float | None = None) -> None:
        """Record ``value`` of ``tag`` at ``step`` (and fractional ``epoch``), now.

        Non-finite values are recorded as they are. ``value`` may be anything
        ``float()`` accepts (a 0-d tensor forces a device sync: pass floats).
        """
        self.scalars({tag: value}, step, epoch)

    def scalars(self, values: Mapping[str, float], step: int, epoch: float | None = None) -> None:
        """Record several tags at the same ``step``/``epoch`` (one lock, one timestamp)."""
        out = self._out
        if out.error is not None:
            raise out.error
        now = time.time()
        ep = _NAN if epoch is None else epoch
        pack = self._pack
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._dir}: the run writer is closed")
            tags = self._tags
            records = out.records
            for tag, value in values.items():
                tag_id = tags.get(tag)
                if tag_id is None:
                    tag_id = self._declare(tag, now)
                try:
                    records += pack(tag_id, ep, step, now, value)
                except (struct.error, TypeError, ValueError, RuntimeError) as error:
                    raise TypeError(
                        f"scalar {tag!r}: value must be a number, step an integer and epoch a "
                        f"number or None; got value={value!r}, step={step!r}, epoch={epoch!r}"
                    ) from error
            out.step = step
            if epoch is not None:
                out.epoch = epoch

    def event(self, kind: str, **fields: Any) -> None:
        """Append the event ``{"kind": kind, "time": now, **fields}`` to events.jsonl.

        Fields must be JSON-able (numpy values, tensors and paths are converted).
        ``tag`` events are the writer's own and cannot be written by hand.
        Raises the writer's `error` (e.g. a full disk) while it stands.
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"event kind must be a non-empty string, got {kind!r}")
        if kind == "tag":
            raise ValueError("'tag' events are written by the writer itself, on a tag's first use")
        if self._out.error is not None:
            raise self._out.error
        self._append_event(kind, fields)

    def _append_event(self, kind: str, fields: dict[str, Any]) -> None:
        line = dumps({"kind": kind, "time": time.time(), **fields}) + "\n"
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._dir}: the run writer is closed")
            self._out.events.append(line)

    def status(
        self,
        state: str,
        reason: str | None = None,
        traceback: str | None = None,
        step: int | None = None,
        epoch: float | None = None,
    ) -> None:
        """Set the run's state: a ``status`` event, and status.json rewritten now.

        ``state`` is one of starting, running, finished, stopped, failed. A
        final state also flushes the buffers, so the dashboard sees it at once.
        Recorded even while the writer has an `error` (a failure must be told);
        raises `~dltui.runs.files.RunWriteError` when it cannot be written.
        """
        if state not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}; got {state!r}")
        fields: dict[str, Any] = {"status": state}
        if reason is not None:
            fields["reason"] = reason
        if traceback is not None:
            fields["traceback"] = traceback
        if step is not None:
            fields["step"] = step
        if epoch is not None:
            fields["epoch"] = epoch
        self._append_event("status", fields)
        out = self._out
        with self._lock:
            if step is not None:
                out.step = step
            if epoch is not None:
                out.epoch = epoch
            out.state["status"] = state
            out.state["reason"] = reason
        if state not in ACTIVE_STATUSES:
            self.flush()
        out.write_status()

    def best(self, monitor: str, value: float, epoch: int) -> None:
        """Say the run's best so far: ``value`` of ``monitor``, reached at ``epoch``.

        Kept in status.json (``best``) with its next write, so a run list reads a
        run's best without scanning its whole event log.
        """
        out = self._out
        with self._lock:
            if self._closed:
                return
            finite = math.isfinite(value)
            out.state["best"] = {
                "monitor": monitor,
                "value": value if finite else None,
                "epoch": epoch,
            }

    def heartbeat(self, step: int | None = None, epoch: float | None = None) -> None:
        """Say the run is alive (at ``step``/``epoch``); status.json at most once a second.

        The background thread already heartbeats every ~2 s; call this to
        report progress, e.g. when training a long step without scalars.
        """
        out = self._out
        with self._lock:
            if self._closed:
                return
            if step is not None:
                out.step = step
            if epoch is not None:
                out.epoch = epoch
        if time.time() - out.last_status_write >= 1.0:
            out.write_status()

    # ------------------------------------------------------------ write out

    def flush(self) -> None:
        """Write the buffered events, then the buffered scalars, to disk.

        A write that fails is cut back off its file (which so never ends torn by
        it) and its data kept for the next flush; the `RunWriteError` is raised,
        and kept in `error` until a later flush succeeds.
        """
        self._out.flush()

    def close(
        self, status: str | None = None, reason: str | None = None, traceback: str | None = None
    ) -> None:
        """Record the final ``status`` (if given), flush, and release the files and the lock.

        Without ``status``, a run still starting/running is recorded as
        ``finished``; a final state already set (e.g. ``failed``) is kept.
        Closing twice does nothing. The files and the lock are released even
        when the last writes fail; the first such `RunWriteError` is raised then.
        """
        if self._closed:
            return
        failure: RunWriteError | None = None
        try:
            if status is not None:
                self.status(status, reason=reason, traceback=traceback)
            elif self._out.state["status"] in ACTIVE_STATUSES:
                self.status(FINISHED, reason=reason)
        except RunWriteError as error:
            failure = error
        self._out.stop()
        try:
            self.flush()
        except RunWriteError as error:
            failure = failure or error
        with self._lock:
            self._closed = True
        try:
            self._out.write_status()
        except RunWriteError as error:
            failure = failure or error
        self._release()
        if failure is not None:
            raise failure

    def _release(self) -> None:
        self._out.close_files()
        self._run_lock.release()
        atexit.unregister(self._at_exit)

    def _abandon(self) -> None:
        """Give up a writer that could not start: stop its thread, release everything."""
        with self._lock:
            self._closed = True
        self._out.stop()
        self._release()

    def __enter__(self) -> RunWriter:
        """Use the writer in a ``with`` block; the block's outcome becomes the final status."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close with ``failed`` (+ traceback) on an exception, ``stopped`` on Ctrl-C."""
        self.close(*block_outcome(exc_type, exc, tb))

    # -------------------------------------------------------------- private

    def _declare(self, tag: str, now: float) -> int:
        # Called with self._lock held: the declaration enters the event buffer
        # before the first record, and flush() writes events before scalars.
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"a scalar tag must be a non-empty string, got {tag!r}")
        tag_id = self._next_tag_id
        if tag_id >= MAX_TAGS:
            raise ValueError("too many distinct scalar tags in one run")
        self._next_tag_id += 1
        self._tags[tag] = tag_id
        self._out.events.append(
            dumps({"kind": "tag", "time": now, "id": tag_id, "name": tag}) + "\n"
        )
        return tag_id

    def _at_exit(self) -> None:
        # A forked child inherits this handler but not the run: leave it alone.
        if self._closed or os.getpid() != self._pid:
            return
        self._out.wake()
        with contextlib.suppress(Exception):
            self.flush()
            self._out.write_status()
        self._run_lock.release()


def block_outcome(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> tuple[str | None, str | None, str | None]:
    """(status, reason, traceback) for a ``with`` block that ended with ``exc``.

    None for a clean exit (the run keeps the status it has, or becomes
    finished), ``stopped`` for Ctrl-C, ``failed`` with the traceback otherwise.
    """
    if exc is None:
        return None, None, None
    import traceback as traceback_module

    text = "".join(traceback_module.format_exception(exc_type, exc, tb))
    if isinstance(exc, KeyboardInterrupt):
        return STOPPED, "interrupted", text
    return FAILED, f"{type(exc).__name__}: {exc}", text
