"""The confusion matrix of a classification run: scores, the ``confusion`` event, its table.

The trainer counts the matrix at the final test (torchmetrics) and records it with
`confusion_fields`; readers turn the event back into a `Confusion` with
`confusion_from_event`, whose `rows`, `cell` and `most_confused` are what a pane or
`dltui plot --confusion` shows. Rows are true classes, columns predicted ones.
Plain Python: no numpy, torch or Textual.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dltui.safe_text import printable

MAX_RECORDED_CLASSES = 50
"""Largest matrix the trainer records: the event is one line of events.jsonl, and for a
run whose status.json does not say its best, run discovery looks for the early-stopping
outcome in the log's last 64 KiB."""

NAN = math.nan


def class_scores(
    matrix: Sequence[Sequence[int]],
) -> tuple[list[float], list[float], list[float], list[int]]:
    """Per-class precision, recall, F1 and support of a confusion matrix.

    Precision of class c: correct c over everything predicted c; recall: correct c
    over every true c (its support); F1 their harmonic mean. A score that divides
    by zero (a class never predicted, or absent from the split) is NaN, not 0: it
    is undefined, not bad. Otherwise the values equal torchmetrics' per-class ones.
    """
    k = len(matrix)
    support = [int(sum(row)) for row in matrix]
    predicted = [int(sum(matrix[i][j] for i in range(k))) for j in range(k)]
    precision: list[float] = []
    recall: list[float] = []
    f1: list[float] = []
    for c in range(k):
        correct = matrix[c][c]
        p = correct / predicted[c] if predicted[c] else NAN
        r = correct / support[c] if support[c] else NAN
        defined = not (math.isnan(p) or math.isnan(r))
        f = (2 * p * r / (p + r) if p + r else 0.0) if defined else NAN
        precision.append(p)
        recall.append(r)
        f1.append(f)
    return precision, recall, f1, support


def confusion_fields(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> dict[str, Any]:
    """The fields of a ``confusion`` event for ``matrix`` (besides split, weights, epoch)."""
    precision, recall, f1, support = class_scores(matrix)
    return {
        "classes": list(classes),
        "matrix": [[int(count) for count in row] for row in matrix],
        "support": support,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


@dataclass(frozen=True)
class ClassRow:
    """One true class: its counts per predicted class and its scores (NaN: undefined)."""

    index: int
    name: str
    counts: tuple[int, ...]
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Mistake:
    """Samples of class ``true`` predicted as ``predicted``: ``count``, ``share`` of ``true``."""

    true: str
    predicted: str
    count: int
    share: float


@dataclass(frozen=True)
class Confusion:
    """A recorded confusion matrix with its classes and per-class scores."""

    classes: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    split: str = "test"
    weights: str | None = None
    epoch: int | None = None

    @property
    def total(self) -> int:
        """Samples counted."""
        return sum(self.support)

    @property
    def correct(self) -> int:
        """Samples on the diagonal."""
        return sum(self.matrix[i][i] for i in range(len(self.classes)))

    @property
    def accuracy(self) -> float:
        """Share of samples predicted right (NaN for an empty matrix)."""
        return self.correct / self.total if self.total else NAN

    def summary(self) -> list[str]:
        """What the matrix is of, in parts a view joins: ``test split``, ``weights best
        (epoch 12)``, ``270 samples``, ``accuracy 97.8%`` (when there are samples)."""
        parts = [f"{self.split} split"]
        if self.weights:
            parts.append(f"weights {self.weights}")
        parts.append(f"{self.total:,} samples")
        if self.total:
            parts.append(f"accuracy {self.accuracy:.1%}")
        return parts

    def cell(self, true: int, predicted: int) -> int:
        """Samples of class ``true`` predicted as ``predicted``."""
        return self.matrix[true][predicted]

    def rows(self) -> list[ClassRow]:
        """One row per true class, in class order."""
        return [
            ClassRow(
                i,
                name,
                self.matrix[i],
                self.support[i],
                self.precision[i],
                self.recall[i],
                self.f1[i],
            )
            for i, name in enumerate(self.classes)
        ]

    def most_confused(self, limit: int = 5) -> list[Mistake]:
        """The largest off-diagonal cells, largest first (ties in class order)."""
        cells = [
            (count, i, j)
            for i, row in enumerate(self.matrix)
            for j, count in enumerate(row)
            if i != j and count > 0
        ]
        cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
        return [
            Mistake(self.classes[i], self.classes[j], count, count / self.support[i])
            for count, i, j in cells[:limit]
        ]


def confusion_from_event(event: dict[str, Any]) -> Confusion:
    """The `Confusion` of a ``confusion`` event; ValueError saying what is wrong with it.

    Anyone may write a run, so nothing is trusted: the matrix must be square with
    non-negative integer counts. Class names default to ``0…k-1`` and the scores
    are worked out from the matrix when the event lacks them (or they do not fit).
    """
    raw = event.get("matrix")
    if not isinstance(raw, list) or not raw:
        raise ValueError("confusion event: 'matrix' is not a non-empty list of rows")
    k = len(raw)
    matrix: list[tuple[int, ...]] = []
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != k:
            raise ValueError(f"confusion event: matrix row {i} is not a list of {k} counts")
        if not all(_is_count(count) for count in row):
            raise ValueError(f"confusion event: matrix row {i} holds a non-integer or negative")
        matrix.append(tuple(int(count) for count in row))
    names = event.get("classes")
    if isinstance(names, list) and len(names) == k:
        classes = tuple(printable(str(name), keep_newlines=False) for name in names)
    else:
        classes = tuple(str(i) for i in range(k))
    precision, recall, f1, support = class_scores(matrix)
    weights = event.get("weights")
    epoch = event.get("epoch")
    split = event.get("split")
    return Confusion(
        classes=classes,
        matrix=tuple(matrix),
        precision=_scores(event.get("precision"), precision),
        recall=_scores(event.get("recall"), recall),
        f1=_scores(event.get("f1"), f1),
        support=tuple(support),
        split=printable(split, keep_newlines=False) if isinstance(split, str) else "test",
        weights=printable(weights, keep_newlines=False) if isinstance(weights, str) else None,
        epoch=epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None,
    )


def _is_count(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, float) and value.is_integer() and value >= 0


def _scores(recorded: Any, derived: list[float]) -> tuple[float, ...]:
    """The recorded scores when they are a list of numbers of the right length."""
    if (
        isinstance(recorded, list)
        and len(recorded) == len(derived)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in recorded)
    ):
        return tuple(float(v) for v in recorded)
    return tuple(derived)
