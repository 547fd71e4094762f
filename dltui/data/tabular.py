"""CSV files: one named target column and numeric feature columns, header required.

The stdlib ``csv`` reader is used, row by row, so an error can name the line and
the column of the bad cell. Each call reads the whole file (``describe`` needs
the target column to count classes and samples).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits
from dltui.data.errors import DataError
from dltui.data.info import DataInfo
from dltui.data.labels import ClassIndex, resolve_task
from dltui.data.splitting import split_file_sets
from dltui.spec.data import CsvData
from dltui.spec.errors import did_you_mean


@dataclass(frozen=True)
class Table:
    """A CSV file as text cells, with the file line of every data row."""

    path: Path
    field: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

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
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            raise self._first_non_number(name, cells) from None
        finite = np.isfinite(values)
        if not finite.all():
            row = int(np.argmin(finite))
            raise DataError(
                self.field,
                f"line {self.lines[row]}, column {name!r}: {cells[row]!r} is not a finite number",
                self.path,
            )
        return values

    def _first_non_number(self, name: str, cells: list[str]) -> DataError:
        for line, cell in zip(self.lines, cells, strict=True):
            if not _is_number(cell):
                shown = f"{cell!r}" if cell else "an empty cell"
                return DataError(
                    self.field, f"line {line}, column {name!r}: {shown} is not a number", self.path
                )
        return DataError(self.field, f"column {name!r} holds something that is not a number")


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
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            for raw in reader:
                if not raw or all(not cell.strip() for cell in raw):
                    continue
                cells = [cell.strip() for cell in raw]
                if header is None:
                    header = cells
                    continue
                if len(cells) != len(header):
                    raise DataError(
                        field,
                        f"line {reader.line_num} has {len(cells)} cells but the header has "
                        f"{len(header)}",
                        path,
                    )
                rows.append(cells)
                lines.append(reader.line_num)
    except UnicodeDecodeError as err:
        raise DataError(
            field, f"not UTF-8 text (byte {err.start}); save it as UTF-8", path
        ) from err
    except csv.Error as err:
        raise DataError(field, f"not valid CSV: {err}", path) from err
    except OSError as err:
        raise DataError(field, f"cannot read the file: {err.strerror or err}", path) from err
    if header is None:
        raise DataError(field, "the file is empty; expected a header line and data rows", path)
    if all(_is_number(cell) for cell in header):
        raise DataError(
            field,
            "the first line holds numbers, not column names; add a header line naming the columns",
            path,
        )
    seen: set[str] = set()
    for name in header:
        if not name:
            raise DataError(field, "the header has an empty column name", path)
        if name in seen:
            raise DataError(field, f"the header names column {name!r} twice", path)
        seen.add(name)
    if not rows:
        raise DataError(field, "the file has a header but no data rows", path)
    return Table(path, field, header, rows, lines)


def _columns(spec: CsvData, table: Table) -> list[str]:
    """The feature columns, checked against the header of the main file."""

    def unknown(field: str, name: str) -> DataError:
        hint = did_you_mean(name, table.header)
        return DataError(
            field,
            f"no column {name!r}; the file has {', '.join(table.header)}"
            + (f" ({hint})" if hint else ""),
            table.path,
        )

    if spec.target not in table.header:
        raise unknown("data.target", spec.target)
    if spec.features is None:
        features = [name for name in table.header if name != spec.target]
    else:
        features = list(spec.features)
        for i, name in enumerate(features):
            if name not in table.header:
                raise unknown(f"data.features[{i}]", name)
            if name == spec.target:
                raise DataError(
                    f"data.features[{i}]", f"{name!r} is the target; it cannot be a feature too"
                )
            if name in features[:i]:
                raise DataError(f"data.features[{i}]", f"{name!r} is listed twice")
    if not features:
        raise DataError(
            "data.features",
            f"no feature columns: the file has only the target {spec.target!r}",
            table.path,
        )
    return features


def _check_same_columns(table: Table, needed: list[str]) -> None:
    missing = [name for name in needed if name not in table.header]
    if missing:
        raise DataError(
            table.field,
            f"lacks column(s) {', '.join(map(repr, missing))} of the main file; it has "
            f"{', '.join(table.header)}",
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
                    f"line {line}, column {spec.target!r}: the target is empty",
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
