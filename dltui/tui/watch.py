"""Watch folders and follow live runs from plain threads that know nothing of Textual.

Both classes hand what they see to a ``post`` callable (the app wraps it in a
message); they never touch the UI. `DirectoryWatcher` uses watchdog's native
observer, or its polling observer for network filesystems. `RunFollower` polls
one run's `RunReader` about ten times a second: a poll costs a few ``stat``
calls and reads only the bytes appended since the last one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

RUN_DATA_FILES = frozenset({"events.jsonl", "scalars.bin", "output.log"})
"""Files a live run appends to many times a second; `RunFollower` reads those, not the watcher."""

PostChange = Callable[[str, Path, frozenset[Path]], None]
"""``post(kind, root, paths)``: called from the watcher's thread."""


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: DirectoryWatcher, kind: str, root: Path) -> None:
        self.watcher = watcher
        self.kind = kind
        self.root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = {Path(str(event.src_path))}
        if getattr(event, "dest_path", ""):
            paths.add(Path(str(event.dest_path)))
        if self.kind == "runs" and not event.is_directory:
            # Appends to a run's data files are followed by RunFollower; re-listing
            # every run on each of them would cost far more than it tells.
            paths = {p for p in paths if p.name not in RUN_DATA_FILES}
        if paths:
            self.watcher._changed(self.kind, self.root, frozenset(paths))


class _CreationHandler(FileSystemEventHandler):
    """Watches the parent of a folder that does not exist yet, to start watching it once it does."""

    def __init__(self, watcher: DirectoryWatcher, kind: str, root: Path) -> None:
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

    def __init__(self, roots: dict[str, Path], post: PostChange, *, poll: bool = False) -> None:
        self.roots = {kind: Path(root).absolute() for kind, root in roots.items()}
        self.post = post
        self.poll = poll
        self._observer: BaseObserver | None = None
        self._pending_watches: dict[str, Any] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the observer thread (a daemon: it never keeps the process alive)."""
        observer: BaseObserver = PollingObserver(timeout=0.5) if self.poll else Observer()
        observer.daemon = True
        self._observer = observer
        for kind, root in self.roots.items():
            if root.is_dir():
                observer.schedule(_Handler(self, kind, root), str(root), recursive=True)
            elif root.parent.is_dir():
                watch = observer.schedule(
                    _CreationHandler(self, kind, root), str(root.parent), recursive=False
                )
                self._pending_watches[kind] = watch
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

    def _changed(self, kind: str, root: Path, paths: frozenset[Path]) -> None:
        self.post(kind, root, paths)

    def _root_appeared(self, kind: str, root: Path) -> None:
        with self._lock:
            watch = self._pending_watches.pop(kind, None)
            observer = self._observer
            if watch is None or observer is None:
                return
            observer.unschedule(watch)
            observer.schedule(_Handler(self, kind, root), str(root), recursive=True)
        self.post(kind, root, frozenset({root}))


class RunFollower(threading.Thread):
    """Polls one run's reader every ``interval`` seconds and reports when it has news.

    ``reader`` is a `dltui.runs.RunReader`; ``post(changes)`` is called with each
    non-empty result of ``reader.poll()``. ``backlog()`` says how many messages
    the UI has not handled yet: while it is long the follower waits longer, so a
    busy UI is never buried (the messages replace each other anyway). Hold
    ``lock`` while reading from the reader on another thread: ``poll`` appends
    to the arrays that ``series`` returns.
    """

    def __init__(
        self,
        reader: Any,
        post: Callable[[Any], None],
        *,
        interval: float = 0.1,
        backlog: Callable[[], int] | None = None,
        max_backlog: int = 20,
    ) -> None:
        super().__init__(name=f"follow {getattr(reader, 'run_dir', '')}", daemon=True)
        self.reader = reader
        self.post = post
        self.interval = interval
        self.backlog = backlog or (lambda: 0)
        self.max_backlog = max_backlog
        self.lock = threading.Lock()
        self._stopping = threading.Event()
        self.polls = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        """The thread's loop: poll, post, sleep; until `stop` is called."""
        delay = self.interval
        while not self._stopping.is_set():
            if self.backlog() > self.max_backlog:
                # The UI is behind: give it time rather than queue more work.
                delay = min(delay * 2, 2.0)
            else:
                delay = self.interval
                started = time.monotonic()
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
                delay = max(0.0, self.interval - (time.monotonic() - started))
            self._stopping.wait(delay)

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to end, and wait up to ``timeout`` seconds for it."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)


def iter_kinds(paths: Iterable[Path], root: Path) -> set[str]:
    """The first path component under ``root`` of each of ``paths`` (e.g. experiment names)."""
    out: set[str] = set()
    for path in paths:
        try:
            rel = Path(path).relative_to(root)
        except ValueError:
            continue
        if rel.parts:
            out.add(rel.parts[0])
    return out
