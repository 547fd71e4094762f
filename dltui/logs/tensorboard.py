"""A folder of TensorBoard event files, read as one run and followed as it grows.

TensorBoard treats every ``*tfevents*`` file in a folder as part of one run, in
file-name order (the names start with the creation time). `TensorBoardLog` reads
them the same way, then on each `poll` reads only the bytes appended since: a
torn last record stays unread until it is whole, a record whose CRC fails is
skipped and counted, and garbage between records is skipped to the next valid
one. Nothing in a file is fatal.

What it keeps: every scalar (``simple_value`` and the tensor form that newer
writers use) as a `dltui.runs.series.Series`; text summaries, as lines; the
hyper-parameters of the hparams plugin; which tags hold histograms, images,
audio or other tensors. Like TensorBoard's ``EventAccumulator``, a
``SessionLog.START`` purges the points of every tag at or after its step, and
files of the old format (before ``brain.Event:2``) purge a tag's points when its
steps go back.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dltui.logs.events import SESSION_START, Event, decode_event, hparams_of
from dltui.logs.protobuf import WireError
from dltui.logs.scalar_records import decode_scalars
from dltui.logs.tfrecord import (
    FOOTER,
    HEADER,
    MAX_RECORD,
    data_crc_ok,
    header_crc_ok,
    scan_records,
)
from dltui.runs.series import Series

CHUNK = 8 << 20
"""Bytes read per step: large enough to amortise the array work, small enough that
its temporaries are reused rather than faulted in afresh (see docs/run-format.md)."""
MAX_BUFFERED_RECORD = 256 << 20
"""A record longer than this (256 MiB: a huge graph or image) is skipped, not read."""
_PAD = 64
_MAX_TEXT_LINES = 20_000
_FILE_VERSION = re.compile(r"brain\.Event:(\d+(?:\.\d+)?)")


def is_event_file(name: str) -> bool:
    """Whether a file name is a TensorBoard event file (as TensorBoard decides it)."""
    return "tfevents" in name


@dataclass
class TextEntry:
    """One text summary: its tag, step, wall time and text."""

    tag: str
    step: int
    wall_time: float
    text: str


@dataclass
class LogChanges:
    """What one `TensorBoardLog.poll` found."""

    tags: set[str] = field(default_factory=set)
    new_tags: set[str] = field(default_factory=set)
    points: int = 0
    text: int = 0
    hparams: bool = False
    purged: bool = False
    bad_records: int = 0
    new_files: int = 0

    def __bool__(self) -> bool:
        """True when anything at all changed."""
        return bool(self.points or self.text or self.hparams or self.purged or self.new_files)


@dataclass
class _FileState:
    path: str
    offset: int = 0
    version: float | None = None
    size_seen: int = 0


class TensorBoardLog:
    """The event files of one folder, read incrementally.

    Construction reads what is there; `poll` reads what was appended since and
    picks up new event files. ``bad_records`` counts records skipped for a bad
    CRC or a body that is not an Event; ``skipped_bytes`` counts bytes that were
    part of no valid record.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        """Open the run in ``folder``."""
        self.folder = Path(folder)
        self._files: dict[str, _FileState] = {}
        self._series: dict[str, Series] = {}
        self.text: list[TextEntry] = []
        """Text summaries, in file order (the newest 20,000)."""
        self.hparams: dict[str, object] = {}
        """The hyper-parameters of the hparams plugin, by name."""
        self.other: dict[str, str] = {}
        """Tags holding something other than scalars and text: tag -> kind
        (``histogram``, ``image``, ``audio``, ``hparams``, ``tensor``), and
        ``graph`` when a graph was logged."""
        self.bad_records = 0
        self.skipped_bytes = 0
        self.first_wall_time: float | None = None
        self.last_wall_time: float | None = None
        self.last_step: int | None = None
        self._most_recent_step: int | None = None  # for files of the old format
        self._buf = np.zeros(0, dtype=np.uint8)
        self._growth = 1.0  # expected points per point read so far, while reading a file
        self.poll()

    # ------------------------------------------------------------------ reading

    def event_files(self) -> list[str]:
        """The folder's event files, in the order they are read."""
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(self.folder)
                if is_event_file(entry.name) and entry.is_file()
            )
        except OSError:
            return []
        return [os.path.join(self.folder, name) for name in names]

    def poll(self) -> LogChanges:
        """Read what was appended to every event file since the last poll."""
        changes = LogChanges()
        for path in self.event_files():
            state = self._files.get(path)
            if state is None:
                state = self._files[path] = _FileState(path)
                changes.new_files += 1
            self._read_file(state, changes)
        return changes

    def _read_file(self, state: _FileState, changes: LogChanges) -> None:
        try:
            size = os.stat(state.path).st_size
        except OSError:
            return
        if size < state.size_seen:  # rewritten from the start: read it again
            state.offset = 0
        state.size_seen = size
        if size - state.offset < HEADER + FOOTER:
            return
        try:
            handle = open(state.path, "rb")  # noqa: SIM115 - read in the loop below
        except OSError:
            return
        with handle:
            handle.seek(state.offset)
            # Series sized for the whole file up front: doubling a million-point
            # series copies it and touches fresh memory, which costs as much here.
            self._growth = max(1.0, (size - state.offset) / CHUNK * 1.05)
            buf = self._buffer(CHUNK)
            carry = 0
            while True:
                capacity = len(buf) - _PAD
                got = handle.readinto(buf[carry:capacity].data) or 0
                if not got:
                    break  # the end: what is carried is a record still being written
                total = carry + got
                buf[total : total + _PAD] = 0
                framing = scan_records(buf[:total])
                self.skipped_bytes += framing.skipped_bytes
                self._ingest(buf, framing.starts, framing.lengths, state, changes)
                end = framing.end
                if end == 0 and total == capacity:
                    # Nothing whole in a full buffer: one record longer than it, or
                    # garbage longer than it.
                    needed = _record_size(buf, total)
                    if needed is not None and needed <= MAX_BUFFERED_RECORD:
                        buf = self._buffer(needed, keep=total, current=buf)
                        carry = total
                        continue
                    end = total - (HEADER - 1)  # skip it, keeping a header's worth
                    self.skipped_bytes += end
                    changes.bad_records += needed is not None
                    self.bad_records += needed is not None
                state.offset += end
                carry = total - end
                buf[:carry] = buf[end:total]

    def _buffer(self, size: int, *, keep: int = 0, current: np.ndarray | None = None) -> np.ndarray:
        """A read buffer of at least ``size`` bytes (plus padding), reused between reads."""
        if len(self._buf) < size + _PAD:
            bigger = np.zeros(size + _PAD, dtype=np.uint8)
            if current is not None and keep:
                bigger[:keep] = current[:keep]
            if size <= CHUNK:
                self._buf = bigger  # only the ordinary size is kept for later
            return bigger
        return self._buf

    # ------------------------------------------------------------------ decoding

    def _ingest(
        self,
        buf: np.ndarray,
        starts: np.ndarray,
        lengths: np.ndarray,
        state: _FileState,
        changes: LogChanges,
    ) -> None:
        n = len(starts)
        if not n:
            return
        fast = decode_scalars(buf, starts, lengths)
        good = fast.crc_ok
        if not good.all():
            changes.bad_records += int((~good).sum())
            self.bad_records += int((~good).sum())
        others = np.ones(n, dtype=bool)
        others[fast.rows] = False
        other_rows = np.flatnonzero(others)
        if len(other_rows):
            ok = data_crc_ok(buf, starts[other_rows], lengths[other_rows])
            bad = int((~ok).sum())
            changes.bad_records += bad
            self.bad_records += bad
            other_rows = other_rows[ok]
        # Fast rows go in whole stretches between the general records that can
        # change what came before (a purge), which are handled in file order.
        decoded: list[tuple[int, Event]] = []
        for index in other_rows.tolist():
            s, length = int(starts[index]), int(lengths[index])
            try:
                decoded.append((index, decode_event(buf[s : s + length].tobytes())))
            except WireError:
                changes.bad_records += 1
                self.bad_records += 1
        rows = fast.rows[good]
        tag_index, wall = fast.tag_index[good], fast.wall[good]
        step, value = fast.step[good], fast.value[good]
        if state.version is None:
            version = next((e.file_version for _, e in decoded if e.file_version), None)
            if version is not None:
                state.version = _version_of(version)
        old_format = state.version is None or state.version < 2
        done = 0  # fast rows [0, done) are in
        for row, event in decoded:
            cut = int(np.searchsorted(rows, row))
            self._add_fast(
                fast.tags,
                tag_index[done:cut],
                wall[done:cut],
                step[done:cut],
                value[done:cut],
                old_format,
                changes,
            )
            done = cut
            self._add_event(event, old_format, state, changes)
        self._add_fast(
            fast.tags, tag_index[done:], wall[done:], step[done:], value[done:], old_format, changes
        )

    def _note_times(self, wall: np.ndarray, step: np.ndarray) -> None:
        if not len(wall):
            return
        first, last = float(wall[0]), float(wall[-1])
        if self.first_wall_time is None or first < self.first_wall_time:
            self.first_wall_time = first
        self.last_wall_time = (
            last if self.last_wall_time is None else max(self.last_wall_time, last)
        )
        self.last_step = int(step[-1])

    def _add_fast(
        self,
        tags: list[bytes],
        tag_index: np.ndarray,
        wall: np.ndarray,
        step: np.ndarray,
        value: np.ndarray,
        old_format: bool,
        changes: LogChanges,
    ) -> None:
        if not len(tag_index):
            return
        if old_format:
            # The old format purges a tag's later points when a step goes back: rare,
            # so only the stretch that has such a step goes one event at a time.
            previous = self._most_recent_step
            running = np.maximum.accumulate(step)
            back = step[1:] < running[:-1]
            first_back = bool(previous is not None and step[0] < previous)
            if first_back or back.any():
                for i in range(len(step)):
                    event = Event(float(wall[i]), int(step[i]))
                    name = tags[int(tag_index[i])].decode("utf-8", "replace")
                    self._purge_if_back(event, [name], changes)
                    self._extend(name, step[i : i + 1], wall[i : i + 1], value[i : i + 1], changes)
                self._note_times(wall, step)
                return
            self._most_recent_step = (
                int(running[-1]) if previous is None else max(previous, int(running[-1]))
            )
        self._note_times(wall, step)
        if len(tags) == 1:
            self._extend(tags[0].decode("utf-8", "replace"), step, wall, value, changes)
            return
        order = np.argsort(tag_index, kind="stable")
        sorted_tags = tag_index[order]
        bounds = np.flatnonzero(np.diff(sorted_tags)) + 1
        for part in np.split(order, bounds):
            name = tags[int(tag_index[part[0]])].decode("utf-8", "replace")
            self._extend(name, step[part], wall[part], value[part], changes)

    def _extend(
        self,
        tag: str,
        step: np.ndarray,
        wall: np.ndarray,
        value: np.ndarray,
        changes: LogChanges,
    ) -> None:
        series = self._series.get(tag)
        if series is None:
            capacity = max(256, int(len(step) * self._growth))
            series = self._series[tag] = Series(tag, capacity=capacity)
            changes.new_tags.add(tag)
        series.extend(step, np.full(len(step), np.nan, dtype=np.float32), wall, value)
        changes.tags.add(tag)
        changes.points += len(step)

    def _purge(self, before_step: int, tags: list[str] | None, changes: LogChanges) -> None:
        """Keep only points with a step below ``before_step`` (of ``tags``, or of all)."""
        names = list(self._series) if tags is None else [t for t in tags if t in self._series]
        for name in names:
            old = self._series[name]
            keep = old.step < before_step
            if keep.all():
                continue
            fresh = Series(name, capacity=max(256, int(keep.sum())))
            fresh.extend(old.step[keep], old.epoch[keep], old.time[keep], old.value[keep])
            self._series[name] = fresh
            changes.purged = True
            changes.tags.add(name)

    def _purge_if_back(self, event: Event, tags: list[str], changes: LogChanges) -> None:
        recent = self._most_recent_step
        if recent is not None and event.step < recent and tags:
            self._purge(event.step, tags, changes)
        else:
            self._most_recent_step = event.step

    def _add_event(
        self, event: Event, old_format: bool, state: _FileState, changes: LogChanges
    ) -> None:
        if event.file_version is not None:
            state.version = _version_of(event.file_version)
            return
        if not old_format and event.session_status == SESSION_START:
            self._purge(event.step, None, changes)
        if event.has_graph:
            self.other.setdefault("graph", "graph")
        if not event.values:
            return
        if old_format:
            self._purge_if_back(event, [v.tag for v in event.values], changes)
        wall = np.array([event.wall_time])
        step = np.array([event.step], dtype=np.int64)
        self._note_times(wall, step)
        for value in event.values:
            if value.kind == "scalar" and value.value is not None:
                self._extend(value.tag, step, wall, np.array([value.value]), changes)
            elif value.kind == "text" and value.text is not None:
                self.text.append(TextEntry(value.tag, event.step, event.wall_time, value.text))
                if len(self.text) > _MAX_TEXT_LINES:
                    del self.text[: len(self.text) - _MAX_TEXT_LINES]
                changes.text += 1
            elif value.kind == "hparams":
                found = hparams_of(value.content)
                if found:
                    self.hparams.update(found)
                    changes.hparams = True
                self.other.setdefault(value.tag, "hparams")
            else:
                self.other.setdefault(value.tag, value.kind)

    # ------------------------------------------------------------------ access

    def tags(self) -> list[str]:
        """Every scalar tag, sorted."""
        return sorted(self._series)

    def series(self, tag: str) -> Series:
        """The points of scalar ``tag`` (an empty series if there are none)."""
        return self._series.get(tag) or Series(tag, capacity=1)

    @property
    def modified(self) -> float | None:
        """The newest modification time among the event files (unix seconds)."""
        times = []
        for path in self._files:
            try:
                times.append(os.stat(path).st_mtime)
            except OSError:
                continue
        return max(times) if times else None

    def seconds_since_write(self, now: float | None = None) -> float | None:
        """How long ago an event file last changed."""
        modified = self.modified
        if modified is None:
            return None
        return max(0.0, (time.time() if now is None else now) - modified)


def _record_size(buf: np.ndarray, available: int) -> int | None:
    """Bytes the record at the start of ``buf`` needs, if a valid header is there."""
    if available < HEADER or not header_crc_ok(buf, np.zeros(1, dtype=np.int64))[0]:
        return None
    length = int.from_bytes(buf[:8].tobytes(), "little")
    return HEADER + length + FOOTER if length <= MAX_RECORD else None


def _version_of(text: str) -> float | None:
    match = _FILE_VERSION.fullmatch(text.strip())
    return float(match.group(1)) if match else None
