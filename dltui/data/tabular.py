"""CSV files: one named target column and numeric feature columns, header required.

The stdlib ``csv`` reader is used, row by row, so an error can name the line and
the column of the bad cell. Each call reads the whole file (``describe`` needs
the target column to count classes and samples), within `CSV_FILE_LIMIT`.
Errors quote at most one cell or column name, shortened (`quoted`): the path may
point at a file that is not a table at all, and its lines must not end up in
run files or on the screen.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits
from dltui.data.errors import DataError, near_miss, quoted
from dltui.data.info import DataInfo
from dltui.data.labels import ClassIndex, resolve_task
from dltui.data.limits import CSV_FILE_LIMIT, decode_text, read_data_bytes
from dltui.data.splitting import split_file_sets
from dltui.spec.data import CsvData


@dataclass(frozen=True)
class Table:
    """A CSV file as text cells, with the file line of every data row."""

    path: Path
    field: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int = 1

    def column(self, name: str) -> list[str]:
        """The cells of column ``name``, one per data row."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def numeric(self, name: str) -> np.ndarray:
        """Column ``name`` as float64; a DataError names the first bad cell's line.

        ``nan`` and ``inf`` are refused too: a missing value must not turn into a
        NaN loss many steps into training.
        """
        cells = self.column(name)
        where = f"column {self.header.index(name) + 1}"
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            raise self._first_non_number(where, cells) from None
        finite = np.isfinite(values)
        if not finite.all():
            row = int(np.argmin(finite))
            raise DataError(
                self.field,
                f"line {self.lines[row]}, {where}: {quoted(cells[row])} is not a finite number "
                "(expected a number; missing values must be filled in)",
                self.path,
            )
        return values

    def _first_non_number(self, where: str, cells: list[str]) -> DataError:
        for line, cell in zip(self.lines, cells, strict=True):
            if not _is_number(cell):
                shown = quoted(cell) if cell else "an empty cell"
                return DataError(
                    self.field,
                    f"line {line}, {where}: {shown} is not a number (expected a number)",
                    self.path,
                )
        return DataError(self.field, f"{where} holds something that is not a number", self.path)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_table(path: Path, delimiter: str, field: str) -> Table:
    """Parse ``path``: a header row, then rows of as many cells; blank lines are skipped."""
    if len(delimiter) != 1:
        raise DataError("data.delimiter", f"must be one character, got {delimiter!r}")
    data = read_data_bytes(path, field, CSV_FILE_LIMIT).removeprefix(b"\xef\xbb\xbf")  # BOM
    text = decode_text(data, path, field)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for raw in reader:
            if not raw or all(not cell.strip() for cell in raw):
                continue
            cells = [cell.strip() for cell in raw]
            if header is None:
                header, header_line = cells, reader.line_num
                continue
            if len(cells) != len(header):
                raise DataError(
                    field,
                    f"line {reader.line_num} has {len(cells)} cells but the header "
                    f"(line {header_line}) has {len(header)}",
                    path,
                )
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as err:
        # The csv module's messages are its own words (no cell text): safe to pass on.
        raise DataError(field, f"line {reader.line_num + 1}: not valid CSV: {err}", path) from None
    if header is None:
        raise DataError(field, "the file is empty; expected a header line and data rows", path)
    if all(_is_number(cell) for cell in header):
        raise DataError(
            field,
            f"line {header_line} holds numbers, not column names; add a header line "
            "naming the columns",
            path,
        )
    if len(header) == 1:
        raise DataError(
            field,
            f"line {header_line} has no {delimiter!r} in it: this does not look like a CSV "
            f"table with delimiter {delimiter!r} (expected a header line naming the columns)",
            path,
        )
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if not name:
            raise DataError(
                field, f"line {header_line}: the header's column {number} has no name", path
            )
        if name in seen:
            raise DataError(
                field, f"line {header_line}: the header names column {quoted(name)} twice", path
            )
        seen.add(name)
    if not rows:
        raise DataError(field, "the file has a header but no data rows", path)
    return Table(path, field, header, rows, lines, header_line)


def _unknown_column(table: Table, field: str, name: str) -> DataError:
    """No column ``name``: say so without listing the header (it is the file's first line)."""
    count = len(table.header)
    return DataError(
        field,
        f"no column {quoted(name)} in the header (line {table.header_line}: {count} columns, "
        f"the first {quoted(table.header[0])}){near_miss(name, table.header)}",
        table.path,
    )


def _columns(spec: CsvData, table: Table) -> list[str]:
    """The feature columns, checked against the header of the main file."""

    if spec.target not in table.header:
        raise _unknown_column(table, "data.target", spec.target)
    if spec.features is None:
        features = [name for name in table.header if name != spec.target]
    else:
        features = list(spec.features)
        for i, name in enumerate(features):
            if name not in table.header:
                raise _unknown_column(table, f"data.features[{i}]", name)
            if name == spec.target:
                raise DataError(
                    f"data.features[{i}]", f"{name!r} is the target; it cannot be a feature too"
                )
            if name in features[:i]:
                raise DataError(f"data.features[{i}]", f"{name!r} is listed twice")
    if not features:
        raise DataError(
            "data.features",
            f"no feature columns: the file has only the target {quoted(spec.target)}",
            table.path,
        )
    return features


def _check_same_columns(table: Table, needed: list[str]) -> None:
    missing = [name for name in needed if name not in table.header]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise DataError(
            table.field,
            f"lacks column {quoted(missing[0])}{more} of data.path's header "
            "(every file needs the same columns)",
            table.path,
        )


def _targets_as_numbers(table: Table, name: str) -> np.ndarray | None:
    """The target column as floats if every cell is a number, else None."""
    cells = table.column(name)
    try:
        return np.array(cells, dtype=np.float64)
    except ValueError:
        return None


def _read(spec: CsvData) -> tuple[dict[str, ArraySet], DataInfo]:
    tables = {"main": read_table(spec.path, spec.delimiter, "data.path")}
    for name, path in (("val", spec.val_path), ("test", spec.test_path)):
        if path is not None:
            tables[name] = read_table(path, spec.delimiter, f"data.{name}_path")
    features = _columns(spec, tables["main"])
    for table in tables.values():
        _check_same_columns(table, [*features, spec.target])

    numbers = {k: _targets_as_numbers(t, spec.target) for k, t in tables.items()}
    all_numeric = all(v is not None for v in numbers.values())
    labels: dict[str, np.ndarray] = {}
    for key, table in tables.items():
        value = numbers[key]
        labels[key] = (
            value if all_numeric and value is not None else np.array(table.column(spec.target))
        )
    for table in tables.values():
        for line, cell in zip(table.lines, table.column(spec.target), strict=True):
            if not cell:
                raise DataError(
                    table.field,
                    f"line {line}, column {table.header.index(spec.target) + 1}: the target is "
                    "empty (expected a label or a number)",
                    table.path,
                )
    task = resolve_task(spec.task, np.concatenate(list(labels.values())))

    sets: dict[str, ArraySet] = {}
    classes: ClassIndex | None = None
    if task == "classification":
        classes = ClassIndex(*labels.values())
    for key, table in tables.items():
        x = np.stack([table.numeric(name) for name in features], axis=1).astype(np.float32)
        if classes is not None:
            y = classes.indices(labels[key])
        else:
            y = table.numeric(spec.target).reshape(-1, 1).astype(np.float32)
        sets[key] = ArraySet(x, y)

    info = DataInfo(
        input_shape=(len(features),),
        target_shape=() if classes is not None else (1,),
        task=task,
        num_classes=len(classes) if classes is not None else None,
        class_names=classes.names if classes is not None else None,
        samples=sum(len(s) for s in sets.values()),
    )
    return sets, info


def describe(spec: CsvData) -> DataInfo:
    """Feature count, task, classes and rows of every file given (reads them whole)."""
    return _read(spec)[1]


def load(spec: CsvData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """The rows as float features and class-index or float targets, split."""
    sets, info = _read(spec)
    splits = split_file_sets(sets, spec, seed, task=info.task)
    return splits, info
