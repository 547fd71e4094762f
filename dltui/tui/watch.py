"""Watch folders and follow live runs from plain threads that know nothing of Textual.

Both classes hand what they see to a ``post`` callable (the app wraps it in a
message); they never touch the UI. `DirectoryWatcher` uses watchdog's native
observer, or its polling observer for network filesystems. `RunFollower` polls
one run's `RunReader` about ten times a second, and at once when a ``stat`` of
the run's files sees them change; a poll reads only the bytes appended since the
last one, and reports are spaced so that the dashboard repaints a few times a
second at most, however often the trainer writes.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from dltui.run_format import EVENTS, OUTPUT, SCALARS, STATUS

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.messages import WatchedFolder

RUN_DATA_FILES = frozenset({EVENTS, SCALARS, OUTPUT, STATUS})
"""Files a live run rewrites or appends to many times a second (status.json with every
heartbeat); `RunFollower` reads those, not the watcher. The browser re-reads live runs'
states on its own timer, so it misses no state change by ignoring them here."""

PostChange = Callable[["WatchedFolder", Path, frozenset[Path]], None]
"""``post(kind, root, paths)``: called from the watcher's thread."""


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: DirectoryWatcher, kind: WatchedFolder, root: Path) -> None:
        self.watcher = watcher
        self.kind = kind
        self.root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            # A folder is "modified" whenever an entry in it is created, renamed or removed
            # (a heartbeat's status.json rewrite, ten times a second); those entries report
            # their own events, so the folder's say nothing more.
            return
        if self.kind == "logs" and event.event_type in ("modified", "closed"):
            # Another tool appending to its log: the run view follows the file itself, and
            # the browser re-reads logging runs' states on its timer. Only new, removed or
            # renamed files and folders change what the list holds.
            return
        paths = {Path(str(event.src_path))}
        if getattr(event, "dest_path", ""):
            paths.add(Path(str(event.dest_path)))
        if self.kind == "runs" and not event.is_directory:
            # Appends to a run's data files (and the heartbeat's atomic rewrites of
            # status.json, through a hidden temporary file) are followed by RunFollower;
            # re-listing every run on each of them would cost far more than it tells.
            paths = {p for p in paths if not _is_run_data(p)}
        if paths:
            self.watcher._changed(self.kind, self.root, frozenset(paths))


def _is_run_data(path: Path) -> bool:
    """Whether ``path`` is one of a run's busy files, or a writer's temporary file for one."""
    name = path.name
    if name in RUN_DATA_FILES:
        return True
    # write_json_atomic writes ".status.json.<pid>.tmp" and renames it over status.json.
    return name.startswith(".") and name.endswith(".tmp")


class _CreationHandler(FileSystemEventHandler):
    """Watches the parent of a folder that does not exist yet, to start watching it once it does."""

    def __init__(self, watcher: DirectoryWatcher, kind: WatchedFolder, root: Path) -> None:
        self.watcher = watcher
        self.kind = kind
        self.root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        created = {Path(str(event.src_path)), Path(str(getattr(event, "dest_path", "") or ""))}
        if self.root in created and self.root.is_dir():
            self.watcher._root_appeared(self.kind, self.root)


class DirectoryWatcher:
    """Watches named folders (``{"runs": Path("runs"), ...}``) and reports changes under them.

    A folder that does not exist yet is watched for from its parent and followed
    once it appears. Events are passed on as they come; the message the app
    wraps them in collapses a burst into one.
    """

    def __init__(
        self,
        roots: Mapping[WatchedFolder, Path] | Iterable[tuple[WatchedFolder, Path]],
        post: PostChange,
        *,
        poll: bool = False,
    ) -> None:
        """``roots``: folder by kind, or (kind, folder) pairs when a kind has several
        folders (the log folders)."""
        pairs = roots.items() if isinstance(roots, Mapping) else roots
        self.roots = list(dict.fromkeys((kind, Path(root).absolute()) for kind, root in pairs))
        self.post = post
        self.poll = poll
        self._observer: BaseObserver | None = None
        self._pending_watches: dict[tuple[WatchedFolder, Path], ObservedWatch] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the observer thread (a daemon: it never keeps the process alive)."""
        observer: BaseObserver = PollingObserver(timeout=0.5) if self.poll else Observer()
        observer.daemon = True
        self._observer = observer
        for kind, root in self.roots:
            if root.is_dir():
                observer.schedule(_Handler(self, kind, root), str(root), recursive=True)
            elif root.parent.is_dir():
                watch = observer.schedule(
                    _CreationHandler(self, kind, root), str(root.parent), recursive=False
                )
                self._pending_watches[(kind, root)] = watch
        observer.start()

    def stop(self) -> None:
        """Stop the observer thread and wait (briefly) for it to end."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=2)

    @property
    def running(self) -> bool:
        """Whether the observer thread is alive."""
        return self._observer is not None and self._observer.is_alive()

    def _changed(self, kind: WatchedFolder, root: Path, paths: frozenset[Path]) -> None:
        self.post(kind, root, paths)

    def _root_appeared(self, kind: WatchedFolder, root: Path) -> None:
        with self._lock:
            watch = self._pending_watches.pop((kind, root), None)
            observer = self._observer
            if watch is None or observer is None:
                return
            observer.unschedule(watch)
            observer.schedule(_Handler(self, kind, root), str(root), recursive=True)
        self.post(kind, root, frozenset({root}))


class RunFollower(threading.Thread):
    """Follows one run's reader and reports when it has news, at most every ``min_gap`` s.

    ``reader`` is a run (`dltui.runs.source.RunSource`); ``post(changes)`` is called with each
    non-empty result of ``reader.poll()``. The reader is polled every
    ``interval`` seconds (that also notices a writer that died), and sooner when
    a cheap ``stat`` of the run's files, every ``check_interval`` seconds, sees
    them change. Reports are at least ``min_gap`` seconds apart: a trainer that
    flushes ten times a second would otherwise have the dashboard repaint ten
    times a second, most of its CPU time, for no visible gain; what arrives in
    between is folded into the next report, so a point written is shown at most
    about ``min_gap`` after it reached the file. ``backlog()`` says how many
    messages the UI has not handled yet: while it is long the follower waits
    longer, so a busy UI is never buried (the messages replace each other
    anyway). Hold ``lock`` while reading from the reader on another thread:
    ``poll`` appends to the arrays that ``series`` returns.
    """

    def __init__(
        self,
        reader: RunSource,
        post: Callable[[RunChanges], None],
        *,
        interval: float = 0.1,
        backlog: Callable[[], int] | None = None,
        max_backlog: int = 20,
        min_gap: float = 0.15,
        check_interval: float = 0.02,
    ) -> None:
        super().__init__(name=f"follow {reader.run_dir}", daemon=True)
        self.reader = reader
        self.post = post
        self.interval = interval
        self.backlog = backlog or (lambda: 0)
        self.max_backlog = max_backlog
        self.min_gap = min_gap
        self.check_interval = min(check_interval, interval)
        self.lock = threading.Lock()
        self._stopping = threading.Event()
        self.polls = 0
        self.posts = 0
        self.errors: list[BaseException] = []
        files = getattr(reader, "files", None)
        if callable(files):
            # Another tool's log (`LogRunReader`): its event files or CSV are what grow.
            self._watched = [str(path) for path in files()]
        else:
            self._watched = [os.path.join(reader.run_dir, name) for name in RUN_DATA_FILES]

    def _files_key(self) -> tuple[tuple[int, int] | None, ...]:
        """Size and modification time of each of the run's busy files (None: missing)."""
        key: list[tuple[int, int] | None] = []
        for path in self._watched:
            try:
                info = os.stat(path)
            except OSError:
                key.append(None)
            else:
                key.append((info.st_size, info.st_mtime_ns))
        return tuple(key)

    def run(self) -> None:
        """The thread's loop: check, poll, post, sleep; until `stop` is called."""
        clock = time.monotonic
        last_poll = last_post = -math.inf
        files = self._files_key()
        while not self._stopping.is_set():
            now = clock()
            if self.backlog() > self.max_backlog:
                # The UI is behind: give it time rather than queue more work.
                self._stopping.wait(min(2.0, max(self.interval, 0.2)))
                continue
            due = now - last_poll >= self.interval
            if not due and self._watched:
                due = self._files_key() != files
            if due and now - last_post >= self.min_gap:
                last_poll = now
                # Taken before reading: a write that lands during the poll is seen next time.
                files = self._files_key()
                try:
                    with self.lock:
                        changes = self.reader.poll()
                    self.polls += 1
                except Exception as exc:  # a torn or vanished file must not kill the thread
                    self.errors.append(exc)
                    del self.errors[:-5]
                    changes = None
                if changes:
                    self.post(changes)
                    self.posts += 1
                    last_post = clock()
            next_poll = last_poll + self.interval
            next_post = last_post + self.min_gap
            wake = min(next_poll, now + self.check_interval) if self._watched else next_poll
            self._stopping.wait(max(0.0, max(wake, next_post) - clock()))

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to end, and wait up to ``timeout`` seconds for it."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
