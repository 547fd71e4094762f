"""CSV logs of other tools, read as runs: Lightning's CSVLogger and Keras' CSVLogger.

Lightning writes ``metrics.csv`` with a ``step`` column and one column per logged
name; a row holds only what was logged at that step, so training and validation
rows leave each other's cells empty. Keras writes one row per epoch, with an
``epoch`` column. Either way each other column is its own series, with a point
at each row where its cell holds a number.

`CsvLog` follows the file as it grows (a torn last line waits until it is whole)
and reads it again from the top when it is rewritten — Lightning rewrites the
whole file, with a wider header, when a new name is logged.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dltui.runs.series import Series

MAX_LINE = 1 << 20
"""A line longer than this (1 MiB) is skipped and counted, not read."""
MAX_COLUMNS = 4096
_X_COLUMNS = ("step", "epoch")


@dataclass
class CsvChanges:
    """What one `CsvLog.poll` found."""

    tags: set[str] = field(default_factory=set)
    points: int = 0
    reset: bool = False
    bad_lines: int = 0

    def __bool__(self) -> bool:
        """True when anything changed."""
        return bool(self.points or self.reset)


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


class CsvLog:
    """One CSV log file, read incrementally; each numeric column is a series.

    The x of a point is the row's ``step`` (Lightning), else its ``epoch`` (Keras),
    else its row number. The ``epoch`` column, where there is one, gives each
    point's epoch. CSV logs record no times: a point's time is NaN.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open the CSV log at ``path``."""
        self.path = Path(path)
        self._reset()
        self.poll()

    def _reset(self) -> None:
        self._offset = 0
        self._header: list[str] | None = None
        self._header_line = b""
        self._rows = 0
        self._series: dict[str, Series] = {}
        self.bad_lines = 0
        """Lines skipped: too long, or a different number of cells than the header."""

    @property
    def columns(self) -> list[str]:
        """The header's column names (empty before the header is read)."""
        return list(self._header or [])

    def poll(self) -> CsvChanges:
        """Read the lines appended since the last poll."""
        changes = CsvChanges()
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError:
            return changes
        with handle:
            size = os.fstat(handle.fileno()).st_size
            first = handle.readline(MAX_LINE + 1)
            if self._header is not None and (size < self._offset or first != self._header_line):
                self._reset()  # rewritten (Lightning widens the header that way)
                changes.reset = True
            if size <= self._offset:
                return changes
            if self._header is None:
                if not first.endswith(b"\n"):
                    return changes  # the header itself is still being written
                header = next(csv.reader([first.decode("utf-8", "replace")]), [])
                self._header = [name.strip() for name in header[:MAX_COLUMNS]]
                self._header_line = first
                self._offset = len(first)
            handle.seek(self._offset)
            data = handle.read(size - self._offset)
        end = data.rfind(b"\n") + 1
        if not end:
            return changes
        self._offset += end
        self._ingest(data[:end], changes)
        return changes

    def _ingest(self, data: bytes, changes: CsvChanges) -> None:
        header = self._header or []
        lines = []
        for line in data.split(b"\n")[:-1]:
            if len(line) > MAX_LINE:
                self.bad_lines += 1
                changes.bad_lines += 1
                continue
            lines.append(line.decode("utf-8", "replace"))
        rows = []
        for cells in csv.reader(io.StringIO("\n".join(lines))):
            if not cells:
                continue
            if len(cells) != len(header):
                self.bad_lines += 1
                changes.bad_lines += 1
                continue
            rows.append(cells)
        if not rows:
            return
        index = {name: i for i, name in enumerate(header)}
        count = len(rows)
        parsed = [[_number(cell) for cell in row] for row in rows]
        present = np.array([[v is not None for v in row] for row in parsed], dtype=bool)
        numbers = np.array(
            [[math.nan if v is None else v for v in row] for row in parsed], dtype=np.float64
        ).reshape(count, len(header))
        present = present.reshape(count, len(header))
        x_name = next((name for name in _X_COLUMNS if name in index), None)
        if x_name is not None:
            x = numbers[:, index[x_name]]
            have_x = present[:, index[x_name]]
        else:
            x = np.arange(self._rows, self._rows + count, dtype=np.float64)
            have_x = np.ones(count, dtype=bool)
        self._rows += count
        epoch = (
            numbers[:, index["epoch"]].astype(np.float32)
            if "epoch" in index
            else np.full(count, np.nan, np.float32)
        )
        for name, column in index.items():
            if name == x_name or not name:
                continue
            keep = have_x & present[:, column]
            if not keep.any():
                continue
            series = self._series.get(name)
            if series is None:
                series = self._series[name] = Series(name)
            kept = int(keep.sum())
            series.extend(
                x[keep].astype(np.int64), epoch[keep], np.full(kept, np.nan), numbers[keep, column]
            )
            changes.tags.add(name)
            changes.points += kept

    def tags(self) -> list[str]:
        """Every column that has points, sorted."""
        return sorted(self._series)

    def series(self, tag: str) -> Series:
        """The points of column ``tag`` (empty when it has none)."""
        return self._series.get(tag) or Series(tag, capacity=1)


def looks_like_keras_log(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a CSV whose header begins with ``epoch`` (Keras' CSVLogger)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return False
    header = first.decode("utf-8", "replace").strip().split(",")
    return len(header) >= 2 and header[0].strip() == "epoch"


def read_hparams_yaml(path: str | os.PathLike[str], limit: int = 1 << 20) -> dict[str, object]:
    """The hyper-parameters of a Lightning ``hparams.yaml``: a mapping of plain values.

    Only the YAML that ``yaml.dump`` writes for such a mapping is understood
    (``key: value`` lines, nested mappings by indentation, ``- item`` lists); it is
    parsed as data, never constructed into objects. Nested keys are joined with
    dots (``optimizer.lr``).
    """
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return {}
    out: dict[str, object] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the open mappings
    last_key: str | None = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith(("#", "---", "...")):
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith("- ") and last_key is not None:
            item = _yaml_scalar(body[2:])
            current = out.get(last_key)
            out[last_key] = [*current, item] if isinstance(current, list) else [item]
            continue
        if ":" not in body:
            continue
        key, _, rest = body.partition(":")
        key = key.strip().strip("'\"")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        full = ".".join([k for _, k in stack] + [key])
        rest = rest.strip()
        if not rest:
            stack.append((indent, key))
            last_key = full
            out.pop(full, None)
            continue
        out[full] = _yaml_scalar(rest)
        last_key = full
    return {k: v for k, v in out.items() if v is not None or k in out}


def _yaml_scalar(text: str) -> object:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("null", "~", ""):
        return None
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text
