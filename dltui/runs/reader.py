"""RunReader: follows a run directory by reading only what was appended.

Events are parsed and superseded by `dltui.runs.event_lines`, points grouped
into their tags' `Series` (`dltui.runs.series`), output.log read by
`dltui.runs.output_log`; this module follows the files and keeps them in step.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dltui.bounded import loads_json, read_bytes_limited
from dltui.run_format import EVENTS, META, OUTPUT, SCALARS, STATUS
from dltui.runs.event_lines import int_or_none, parse_lines, superseded
from dltui.runs.layout import RECORD_DTYPE, RECORD_SIZE
from dltui.runs.lines import MAX_LINE, READ_CHUNK, TOO_LONG, LineSplitter
from dltui.runs.output_log import OutputLog
from dltui.runs.series import Series, by_tag, distinct_tags
from dltui.runs.status import RunStatus, run_status

_MAX_PROBLEMS = 100


@dataclass
class RunChanges:
    """What one :meth:`RunReader.poll` found, so a view redraws only what changed.

    ``tags``: tags that got new points, or lost some to a resume (``new_tags``:
    those seen for the first time); ``kinds``: event kinds that arrived, or lost
    superseded events; ``events``/``points``: how many;
    ``status``: status.json changed or the run's state did (e.g. it went dead);
    ``meta``: meta.json appeared; ``output``: output.log grew; ``reset``: a file
    shrank (rewritten by someone), so everything was read again;
    ``bad_lines``: complete event lines that were not valid JSON (skipped).
    """

    tags: set[str] = field(default_factory=set)
    new_tags: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    events: int = 0
    points: int = 0
    status: bool = False
    meta: bool = False
    output: bool = False
    reset: bool = False
    bad_lines: int = 0

    def __bool__(self) -> bool:
        """True when anything at all changed."""
        return bool(
            self.points or self.events or self.status or self.meta or self.output or self.reset
        )


@dataclass(frozen=True)
class ReadOffsets:
    """How far the reader has consumed each append-only file, in bytes."""

    events: int
    scalars: int
    output: int


def _stat_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class RunReader:
    """Reads one run directory and follows it as it grows.

    Construction reads what is there (one :meth:`poll`); each later
    :meth:`poll` reads only the bytes appended since, leaving a torn last line
    or a partial record for the next poll (a torn line is not read again: only
    the bytes after it are looked at for its end). Missing files are fine: a run
    being created fills in as its files appear. Nothing here raises on bad
    content; bad event lines (not JSON, too deeply nested, longer than
    ``max_line`` bytes) are skipped, counted in ``bad_lines`` and described in
    ``problems``. A ``resume`` event drops what it supersedes (docs/run-format.md),
    so every tag's steps increase across resumes.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        chunk_records: int = 1 << 16,
        max_line: int = MAX_LINE,
    ) -> None:
        """Open the run in ``run_dir``; ``chunk_records`` and ``max_line`` bound memory."""
        self.run_dir = Path(run_dir)
        # Plain strings: pathlib joins cost more than the stat calls on every poll.
        self._meta_path = os.path.join(run_dir, META)
        self._events_path = os.path.join(run_dir, EVENTS)
        self._scalars_path = os.path.join(run_dir, SCALARS)
        self._status_path = os.path.join(run_dir, STATUS)
        self._output = OutputLog(os.path.join(run_dir, OUTPUT))
        self._chunk = max(1, chunk_records)
        self._max_line = max_line
        self._reset_state()
        self.poll()

    def _reset_state(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._by_kind: dict[str, list[dict[str, Any]]] = {}
        self._series: dict[str, Series] = {}
        self._tag_names: dict[int, str] = {}
        self._events_offset = 0  # through the last complete line
        self._events_read = 0  # through the last byte looked at (a torn line's too)
        self._lines = LineSplitter(self._max_line)
        self._events_lines = 0
        self._scalars_offset = 0
        self._cuts: deque[tuple[int, int]] = deque()  # (record index, step) still ahead
        self._floors: dict[str, int] = {}  # tag -> the last step a resume kept of it
        self._output.reset()
        self._meta: dict[str, Any] = {}
        self._meta_key: tuple[int, int, int] | None = None
        self._status_raw: dict[str, Any] | None = None
        self._status_key: tuple[int, int, int] | None = None
        self._last_state: str | None = None
        self._state_checked = 0.0
        self.bad_lines = 0
        """Complete event lines that were not valid JSON objects (skipped)."""
        self.superseded_points = 0
        """Scalar points dropped because a resume superseded or repeated them."""
        self.superseded_events = 0
        """Events dropped because a resume superseded them."""
        self.problems: list[str] = []
        """What was wrong with the run's files (first 100 problems)."""

    # ------------------------------------------------------------------ poll

    def poll(self) -> RunChanges:
        """Read what was appended since the last poll and say what changed."""
        changes = RunChanges()
        # scalars.bin's size first: every record within it was written after the events
        # that declare its tag and after any resume before it, so reading events.jsonl
        # to its end afterwards knows all of them.
        scalars_size = _size(self._scalars_path)
        events_size = _size(self._events_path)
        if events_size < self._events_read or scalars_size < self._scalars_offset:
            self._reset_state()
            changes.reset = True
        if not self._meta:
            self._poll_meta(changes)
        self._poll_events(changes, events_size)
        self._poll_scalars(changes, scalars_size)
        self._poll_status(changes)
        changes.output = self._output.grew()
        return changes

    def _problem(self, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)

    def _read_object(self, path: str, changes: RunChanges) -> dict[str, Any] | None:
        try:
            value = loads_json(read_bytes_limited(path), source=path)
        except (OSError, ValueError) as error:
            self._problem(f"cannot read {path}: {error}" if path not in str(error) else str(error))
            return None
        if not isinstance(value, dict):
            self._problem(f"{path}: expected a JSON object")
            return None
        return value

    def _poll_meta(self, changes: RunChanges) -> None:
        # meta.json is written once; after it has been read there is nothing to follow.
        path = self._meta_path
        key = _stat_key(path)
        if key is None or key == self._meta_key:
            return
        self._meta_key = key
        meta = self._read_object(path, changes)
        if meta is not None:
            self._meta = meta
            changes.meta = True

    def _poll_status(self, changes: RunChanges) -> None:
        path = self._status_path
        key = _stat_key(path)
        changed = False
        if key is not None and key != self._status_key:
            self._status_key = key
            raw = self._read_object(path, changes)
            if raw is not None:
                self._status_raw = raw
                changes.status = changed = True
        # Liveness changes only with time: checking the pid twice a second is plenty.
        now = time.monotonic()
        if not changed and now - self._state_checked < 0.5:
            return
        self._state_checked = now
        state = self.status.state
        if state != self._last_state:
            self._last_state = state
            changes.status = True

    def _poll_events(self, changes: RunChanges, size: int | None = None) -> None:
        path = self._events_path
        if size is None:
            size = _size(path)
        if size <= self._events_read:
            return
        try:
            with open(path, "rb") as handle:
                handle.seek(self._events_read)
                while self._events_read < size:
                    data = handle.read(min(READ_CHUNK, size - self._events_read))
                    if not data:
                        break
                    self._events_read += len(data)
                    self._take_lines(self._lines.feed(data), changes)
        except OSError as error:
            self._problem(f"{path}: cannot read ({error})")

    def _take_lines(self, lines: list[bytes], changes: RunChanges) -> None:
        if not lines:
            return
        first_line = self._events_lines
        self._events_lines = first_line + len(lines)
        self._events_offset = self._events_read - self._lines.tail
        path = self._events_path
        for number, (line, event) in enumerate(
            zip(lines, parse_lines(lines), strict=True), start=first_line + 1
        ):
            if isinstance(event, dict):
                self._add_event(event, changes)
            elif line is TOO_LONG or line.strip():
                self.bad_lines += 1
                changes.bad_lines += 1
                if line is TOO_LONG:
                    event = f"longer than {self._max_line} bytes"
                self._problem(f"{path}:{number}: {event}; skipped")

    def _add_event(self, event: dict[str, Any], changes: RunChanges) -> None:
        kind = event["kind"]
        if kind == "resume":
            self._resume(event, changes)
        self._events.append(event)
        bucket = self._by_kind.get(kind)
        if bucket is None:
            bucket = self._by_kind[kind] = []
        bucket.append(event)
        changes.kinds.add(kind)
        changes.events += 1
        if kind == "tag":
            tag_id, name = event.get("id"), event.get("name")
            if isinstance(tag_id, int) and isinstance(name, str) and name:
                self._tag_names[tag_id] = name
            else:
                self._problem(f"{self._events_path}: tag event without an int id and a name")

    # ---------------------------------------------------------------- resume

    def _resume(self, event: dict[str, Any], changes: RunChanges) -> None:
        """A new writer continues from ``event["step"]``: drop what that supersedes."""
        step = int_or_none(event.get("step"))
        if step is None:
            return  # continues after everything recorded: nothing is superseded
        dropped = [e for e in self._events if superseded(e, step)]
        if dropped:
            gone = {id(e) for e in dropped}
            self._events = [e for e in self._events if id(e) not in gone]
            for kind in {e["kind"] for e in dropped}:
                self._by_kind[kind] = [e for e in self._by_kind[kind] if id(e) not in gone]
                changes.kinds.add(kind)
            self.superseded_events += len(dropped)
        records = int_or_none(event.get("records"))
        if records is not None and records > self._scalars_offset // RECORD_SIZE:
            self._cuts.append((records, step))  # applied when the records get there
        else:
            self._cut(step, changes)

    def _cut(self, step: int, changes: RunChanges) -> None:
        """Drop every point after ``step`` read so far; later points must pass each tag's end."""
        self._floors = {}
        for name, series in self._series.items():
            dropped = series.drop_after(step)
            if dropped:
                self.superseded_points += dropped
                changes.tags.add(name)
            if len(series):
                self._floors[name] = int(series.step[-1])

    # --------------------------------------------------------------- scalars

    def _poll_scalars(self, changes: RunChanges, size: int) -> None:
        path = self._scalars_path
        pending = (size - self._scalars_offset) // RECORD_SIZE
        if pending <= 0:
            return
        try:
            with open(path, "rb") as handle:
                handle.seek(self._scalars_offset)
                while pending > 0:
                    index = self._scalars_offset // RECORD_SIZE
                    while self._cuts and self._cuts[0][0] <= index:
                        self._cut(self._cuts.popleft()[1], changes)
                    count = min(pending, self._chunk)
                    if self._cuts:
                        count = min(count, self._cuts[0][0] - index)
                    data = handle.read(count * RECORD_SIZE)
                    records = np.frombuffer(data, RECORD_DTYPE, len(data) // RECORD_SIZE)
                    used = self._ingest(records, changes)
                    self._scalars_offset += used * RECORD_SIZE
                    if used < count:
                        return  # waiting for a tag declaration, or the file was cut
                    pending -= count
                index = self._scalars_offset // RECORD_SIZE
                while self._cuts and self._cuts[0][0] <= index:
                    self._cut(self._cuts.popleft()[1], changes)
        except OSError as error:
            self._problem(f"{path}: cannot read ({error})")

    def _ingest(self, records: np.ndarray, changes: RunChanges) -> int:
        """Add records to their series; returns how many were used (a prefix)."""
        if not len(records):
            return 0
        tags = records["tag"]
        unique = distinct_tags(tags)
        unknown = [tag_id for tag_id in unique.tolist() if tag_id not in self._tag_names]
        if unknown:
            # The declaration may have been torn when events were read: read on.
            self._poll_events(changes)
            unknown = [tag_id for tag_id in unknown if tag_id not in self._tag_names]
            index = self._scalars_offset // RECORD_SIZE
            if self._cuts and self._cuts[0][0] - index < len(records):
                # That read met a resume inside these records: stop at it.
                records = records[: self._cuts[0][0] - index]
                return self._ingest(records, changes) if len(records) else 0
        if unknown:
            if _size(self._events_path) > self._events_offset:
                first = int(np.argmax(np.isin(tags, unknown)))
                records, tags = records[:first], tags[:first]
                unique = distinct_tags(tags)
            else:
                for tag_id in unknown:
                    self._tag_names[tag_id] = f"tag#{tag_id}"
                    self._problem(
                        f"{self._scalars_path}: tag id {tag_id} was never declared "
                        f"in {EVENTS}; its points are shown as 'tag#{tag_id}'"
                    )
        columns = [records[name] for name in ("step", "epoch", "time", "value")]
        for tag_id, tag_columns in by_tag(tags, unique, columns):
            self._extend(self._tag_names[tag_id], tag_columns, changes)
        return len(records)

    def _extend(self, name: str, columns: list[np.ndarray], changes: RunChanges) -> None:
        floor = self._floors.get(name)
        if floor is not None:
            # After a resume a tag continues past its last kept step: what repeats is dropped.
            later = columns[0] > floor
            if not later.all():
                self.superseded_points += int(len(later) - np.count_nonzero(later))
                columns = [column[later] for column in columns]
            if not len(columns[0]):
                return
            del self._floors[name]
        series = self._series.get(name)
        count = len(columns[0])
        if series is None:
            series = self._series[name] = Series(name, capacity=max(256, count))
        if not len(series):
            changes.new_tags.add(name)
        series.extend(*columns)
        changes.tags.add(name)
        changes.points += count

    # ----------------------------------------------------------------- query

    @property
    def offsets(self) -> ReadOffsets:
        """Bytes consumed so far of events.jsonl, scalars.bin and output.log."""
        return ReadOffsets(self._events_offset, self._scalars_offset, self._output.offset)

    @property
    def meta(self) -> dict[str, Any]:
        """meta.json's content (empty until it exists)."""
        return self._meta

    @property
    def status(self) -> RunStatus:
        """The run's state now, with liveness (``dead`` when its writer is gone)."""
        return run_status(self._status_raw, self._meta or None)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, in order (do not modify)."""
        return self._events

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """The events of one kind, in order (do not modify); empty if none."""
        return self._by_kind.get(kind, [])

    def latest(self, kind: str) -> dict[str, Any] | None:
        """The most recent event of ``kind``, or None."""
        bucket = self._by_kind.get(kind)
        return bucket[-1] if bucket else None

    def kinds(self) -> list[str]:
        """The event kinds seen so far, in order of first appearance."""
        return list(self._by_kind)

    def tags(self) -> list[str]:
        """Tags that have at least one point, in order of first appearance."""
        return [name for name, series in self._series.items() if len(series)]

    def series(self, tag: str) -> Series:
        """The points of ``tag`` (an empty Series if it has none yet; it fills on poll)."""
        series = self._series.get(tag)
        if series is None:
            series = self._series[tag] = Series(tag)
        return series

    # ---------------------------------------------------------------- output

    def output_tail(self, max_lines: int = 200) -> list[str]:
        """The last ``max_lines`` lines of output.log, as a terminal shows them.

        Reads backwards from the end only as far as needed. A carriage return
        (progress bars) keeps only what follows it on that line. The last line
        is included even without its newline.
        """
        return self._output.tail(max_lines)

    def read_output(self, max_bytes: int = 1 << 20) -> list[str]:
        """The complete output lines written since the last call.

        The first call (or one after a long pause) returns at most the last
        ``max_bytes`` worth of lines, skipping older output.
        """
        return self._output.read_new(max_bytes)
