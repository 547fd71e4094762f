"""RunWriter: records one run into its run directory, cheaply and crash-safely.

Calls only append to in-memory buffers; a background thread writes them out
(events first, then scalars, so every tag is declared before a record uses
it) and keeps the heartbeat in status.json fresh. A killed process loses at
most the last flush interval; what reached the files is always readable.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.metadata
import math
import os
import platform
import struct
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from dltui.runs.control import clear_stop, this_host
from dltui.runs.layout import (
    ACTIVE_STATUSES,
    CHECKPOINTS,
    EVENTS,
    EXPERIMENT,
    FORMAT_VERSION,
    META,
    OUTPUT,
    RECORD_SIZE,
    RECORD_STRUCT,
    SCALARS,
    STATUS,
    STATUSES,
    check_name,
    dumps,
    new_run_id,
    read_json,
    write_json_atomic,
)

_NAN = math.nan
_MAX_TAGS = 2**32 - 1


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
        flush_interval: float = 0.1,
        heartbeat_interval: float = 2.0,
    ) -> None:
        """Prefer :meth:`create` or :meth:`open`; this assumes the folder is ready."""
        if flush_interval <= 0 or heartbeat_interval <= 0:
            raise ValueError("flush_interval and heartbeat_interval must be positive")
        self._dir = run_dir
        self._meta = meta
        self._tags = tags
        self._next_tag_id = max(tags.values(), default=-1) + 1
        self._lock = threading.Lock()  # guards the buffers and the tag table
        self._flush_lock = threading.Lock()  # keeps whole flushes in order
        self._status_lock = threading.Lock()  # one status.json writer at a time
        self._events: list[str] = []
        self._records = bytearray()
        self._pack = RECORD_STRUCT.pack
        self._closed = False
        self._pid = os.getpid()
        self._step: int | None = None
        self._epoch: float | None = None
        self._state: dict[str, Any] = {
            "status": "starting",
            "pid": self._pid,
            "host": this_host(),
            "heartbeat": time.time(),
            "step": None,
            "epoch": None,
            "reason": None,
        }
        self._last_status_write = 0.0
        self._heartbeat_interval = heartbeat_interval
        self._flush_interval = flush_interval
        self.error: BaseException | None = None
        """The last error the background flusher met (e.g. disk full), if any."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        self._events_fd = os.open(run_dir / EVENTS, flags, 0o644)
        self._scalars_fd = os.open(run_dir / SCALARS, flags, 0o644)
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._flush_loop, name=f"dltui-run-flusher-{run_dir.name}", daemon=True
        )
        self._thread.start()
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
        Raises FileExistsError when the folder already holds a run.
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
            folder = _fresh_folder(Path(root) / experiment)
            run_id = folder.name
        if (folder / META).exists():
            raise FileExistsError(
                f"{folder} already holds a run (it has {META}); "
                "use RunWriter.open() to append to it"
            )
        (folder / CHECKPOINTS).mkdir(exist_ok=True)
        if experiment_text is not None:
            (folder / EXPERIMENT).write_text(experiment_text, encoding="utf-8")
        meta = {
            "format": FORMAT_VERSION,
            "run_id": run_id,
            "experiment": experiment,
            "created": time.time(),
            "host": this_host(),
            "pid": os.getpid(),
            "argv": list(sys.argv),
            "source": None if source is None else os.fspath(Path(source).resolve()),
            "device": device,
            "versions": _versions(),
            "config": dict(config) if config is not None else {},
        }
        writer = cls(
            folder,
            meta,
            {},
            flush_interval=flush_interval,
            heartbeat_interval=heartbeat_interval,
        )
        writer.status("starting")
        # meta.json last: its presence is what makes the folder a run for discovery.
        write_json_atomic(folder / META, meta)
        return writer

    @classmethod
    def open(
        cls,
        run_dir: str | os.PathLike[str],
        *,
        flush_interval: float = 0.1,
        heartbeat_interval: float = 2.0,
    ) -> RunWriter:
        """Append to the existing run in ``run_dir`` (resume).

        Cuts a torn last line or partial record left by a killed writer,
        removes a stale stop request, records a ``resume`` event and sets the
        status back to ``starting`` under this process's pid.
        Raises FileNotFoundError without meta.json, ValueError for a newer format.
        """
        folder = Path(run_dir)
        meta_path = folder / META
        if not meta_path.is_file():
            raise FileNotFoundError(f"{folder}: not a run folder (no {META})")
        meta = read_json(meta_path)
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_path}: expected a JSON object")
        version = meta.get("format")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"{meta_path}: format {version!r} is not one this dltui can append to "
                f"(it writes format {FORMAT_VERSION})"
            )
        _cut_torn_tail(folder / EVENTS, folder / SCALARS)
        writer = cls(
            folder,
            meta,
            _declared_tags(folder / EVENTS),
            flush_interval=flush_interval,
            heartbeat_interval=heartbeat_interval,
        )
        clear_stop(folder)
        writer.event("resume", pid=os.getpid(), host=this_host(), argv=list(sys.argv))
        writer.status("starting")
        return writer

    # ------------------------------------------------------------- properties

    @property
    def run_dir(self) -> Path:
        """The run's folder."""
        return self._dir

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return str(self._meta.get("run_id", self._dir.name))

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

    # ---------------------------------------------------------------- record

    def scalar(self, tag: str, value: float, step: int, epoch: float | None = None) -> None:
        """Record ``value`` of ``tag`` at ``step`` (and fractional ``epoch``), now.

        Non-finite values are recorded as they are. ``value`` may be anything
        ``float()`` accepts (a 0-d tensor forces a device sync: pass floats).
        """
        self.scalars({tag: value}, step, epoch)

    def scalars(self, values: Mapping[str, float], step: int, epoch: float | None = None) -> None:
        """Record several tags at the same ``step``/``epoch`` (one lock, one timestamp)."""
        now = time.time()
        ep = _NAN if epoch is None else epoch
        pack = self._pack
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._dir}: the run writer is closed")
            tags = self._tags
            records = self._records
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
            self._step = step
            if epoch is not None:
                self._epoch = epoch

    def event(self, kind: str, **fields: Any) -> None:
        """Append the event ``{"kind": kind, "time": now, **fields}`` to events.jsonl.

        Fields must be JSON-able (numpy values, tensors and paths are converted).
        ``tag`` events are the writer's own and cannot be written by hand.
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"event kind must be a non-empty string, got {kind!r}")
        if kind == "tag":
            raise ValueError("'tag' events are written by the writer itself, on a tag's first use")
        line = dumps({"kind": kind, "time": time.time(), **fields}) + "\n"
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._dir}: the run writer is closed")
            self._events.append(line)

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
        self.event("status", **fields)
        with self._lock:
            if step is not None:
                self._step = step
            if epoch is not None:
                self._epoch = epoch
            self._state["status"] = state
            self._state["reason"] = reason
        if state not in ACTIVE_STATUSES:
            self.flush()
        self._write_status()

    def heartbeat(self, step: int | None = None, epoch: float | None = None) -> None:
        """Say the run is alive (at ``step``/``epoch``); status.json at most once a second.

        The background thread already heartbeats every ~2 s; call this to
        report progress, e.g. when training a long step without scalars.
        """
        with self._lock:
            if self._closed:
                return
            if step is not None:
                self._step = step
            if epoch is not None:
                self._epoch = epoch
        if time.time() - self._last_status_write >= 1.0:
            self._write_status()

    # ------------------------------------------------------------ write out

    def flush(self) -> None:
        """Write the buffered events, then the buffered scalars, to disk."""
        with self._flush_lock:
            with self._lock:
                if not self._events and not self._records:
                    return
                events, self._events = self._events, []
                records, self._records = self._records, bytearray()
            if events:
                _write_all(self._events_fd, "".join(events).encode("utf-8"))
            if records:
                _write_all(self._scalars_fd, records)

    def close(
        self, status: str | None = None, reason: str | None = None, traceback: str | None = None
    ) -> None:
        """Record the final ``status`` (if given), flush, and release the files.

        Without ``status``, a run still starting/running is recorded as
        ``finished``; a final state already set (e.g. ``failed``) is kept.
        Closing twice does nothing.
        """
        if self._closed:
            return
        if status is not None:
            self.status(status, reason=reason, traceback=traceback)
        elif self._state["status"] in ACTIVE_STATUSES:
            self.status("finished", reason=reason)
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)
        self.flush()
        with self._lock:
            self._closed = True
        self._write_status()
        os.close(self._events_fd)
        os.close(self._scalars_fd)
        atexit.unregister(self._at_exit)

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
        if tag_id >= _MAX_TAGS:
            raise ValueError("too many distinct scalar tags in one run")
        self._next_tag_id += 1
        self._tags[tag] = tag_id
        self._events.append(dumps({"kind": "tag", "time": now, "id": tag_id, "name": tag}) + "\n")
        return tag_id

    def _write_status(self) -> None:
        with self._status_lock:
            with self._lock:
                state = dict(self._state)
                state["step"] = self._step
                state["epoch"] = self._epoch
            now = time.time()
            state["heartbeat"] = now
            write_json_atomic(self._dir / STATUS, state)
            self._last_status_write = now

    def _flush_loop(self) -> None:
        while not self._wake.wait(self._flush_interval):
            try:
                self.flush()
                if time.time() - self._last_status_write >= self._heartbeat_interval:
                    self._write_status()
            except Exception as error:  # keep recording; report once per kind of error
                if self.error is None or type(self.error) is not type(error):
                    print(f"dltui: cannot write run {self._dir}: {error}", file=sys.stderr)
                self.error = error

    def _at_exit(self) -> None:
        # A forked child inherits this handler but not the run: leave it alone.
        if self._closed or os.getpid() != self._pid:
            return
        self._wake.set()
        with contextlib.suppress(Exception):
            self.flush()
            self._write_status()


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fresh_folder(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        folder = parent / new_run_id()
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{parent}: could not find a free run id")


def _versions() -> dict[str, str | None]:
    from dltui import __version__

    torch_module = sys.modules.get("torch")
    torch_version: str | None
    if torch_module is not None:
        torch_version = str(getattr(torch_module, "__version__", None))
    else:
        try:
            torch_version = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            torch_version = None
    return {"dltui": __version__, "torch": torch_version, "python": platform.python_version()}


def _cut_torn_tail(events: Path, scalars: Path) -> None:
    # A killed writer can leave half a line or half a record; appending after
    # it would corrupt the next entry, so cut it (readers never consumed it).
    if events.exists():
        with open(events, "r+b") as handle:
            end = size = handle.seek(0, os.SEEK_END)
            # Walk back block by block to the last newline (lines can be long).
            while end > 0:
                start = max(0, end - (1 << 16))
                handle.seek(start)
                block = handle.read(end - start)
                if end == size and block.endswith(b"\n"):
                    break  # nothing torn
                cut = block.rfind(b"\n")
                if cut >= 0:
                    handle.truncate(start + cut + 1)
                    break
                end = start
            else:
                handle.truncate(0)  # a single torn line and nothing before it
    if scalars.exists():
        size = scalars.stat().st_size
        if size % RECORD_SIZE:
            os.truncate(scalars, size - size % RECORD_SIZE)


def _declared_tags(events: Path) -> dict[str, int]:
    tags: dict[str, int] = {}
    if not events.exists():
        return tags
    import json

    with open(events, "rb") as handle:
        for line in handle:
            if b'"tag"' not in line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("kind") == "tag":
                tag_id, name = event.get("id"), event.get("name")
                if isinstance(tag_id, int) and isinstance(name, str):
                    tags[name] = tag_id
    # New tags get ids after every id in use, even if the log skipped some.
    return tags


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
        return "stopped", "interrupted", text
    return "failed", f"{type(exc).__name__}: {exc}", text
