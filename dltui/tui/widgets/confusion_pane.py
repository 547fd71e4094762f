"""ConfusionPane: which classes a classifier mixes up, from the final test's ``confusion`` event.

The matrix is drawn with its counts (rows: true class, columns: predicted), each
cell shaded by its share of the true class: the diagonal in the theme's success
colour, mistakes in its error colour (the worst one brightest), so the classes
confused most are the brightest red cells at a glance. Per-class recall, precision, F1 and support
sit beside the matrix, or under it when the pane is narrow. Counts and scores
are never cut: when the classes do not all fit, the pane shows those most
involved in mistakes and says how many it left out.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.color import Color

from dltui.report.confusion import Confusion, confusion_from_event
from dltui.safe_text import printable
from dltui.tui.widgets.changes import affects, meta_value
from dltui.tui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource

NOT_YET = "no confusion matrix yet (recorded at the final test)"

_CLASSIFICATION_LOSSES = frozenset({"cross_entropy", "nll", "bce", "bce_with_logits"})
_NAME_LIMIT = 12
"""Longest class name shown whole as a row label (a name is text: it may be cut, with …)."""
_CORNER = "true\\pred"

# Score columns beside (or under) the matrix: roomy headers, then compact ones.
_SCORES_ROOMY = (("recall", 6), ("precision", 9), ("f1", 5), ("support", 7))
_SCORES_TIGHT = (("rec", 5), ("prec", 5), ("f1", 5), ("n", 4))


def why_no_confusion(meta: Mapping[str, Any] | None, alive: bool) -> str:
    """Why a run shows no confusion matrix, from its recorded experiment."""
    config = meta_value(dict(meta or {}), "config")
    if not isinstance(config, dict) or not config:
        return NOT_YET if alive else "this run recorded no confusion matrix"
    if meta_value(config, "model", "kind") == "gan":
        return "a GAN has no classes to confuse: no confusion matrix"
    if meta_value(config, "data", "source") == "chars":
        return "a language model predicts characters: no confusion matrix"
    loss = meta_value(config, "training", "loss")
    if isinstance(loss, str) and loss not in _CLASSIFICATION_LOSSES:
        return f"not a classification run (loss {printable(loss)}): no confusion matrix"
    test = meta_value(config, "data", "split", "test")
    no_test = isinstance(test, int | float) and not isinstance(test, bool) and test <= 0
    if no_test and not meta_value(config, "data", "test_path"):
        return "no test split: the confusion matrix is counted at the final test"
    if alive:
        return NOT_YET
    return "no confusion matrix was recorded (the run ended before its final test?)"


def shown_classes(confusion: Confusion, limit: int) -> list[int]:
    """The indices of at most ``limit`` classes to draw, in class order: all when they
    fit, else those in the most mistakes (as the true class or the predicted one)."""
    k = len(confusion.classes)
    if k <= limit:
        return list(range(k))
    matrix = confusion.matrix
    row_wrong = [sum(row) - row[c] for c, row in enumerate(matrix)]
    column_wrong = [sum(matrix[i][c] for i in range(k)) - matrix[c][c] for c in range(k)]
    wrong = [row_wrong[c] + column_wrong[c] for c in range(k)]
    chosen = sorted(range(k), key=lambda c: (-wrong[c], c))[: max(1, limit)]
    return sorted(chosen)


def _score(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: max(1, size - 1)] + "…"


class ConfusionPane(TextPane):
    """The final test's confusion matrix, heat-shaded, with per-class scores."""

    DEFAULT_CSS = """
    ConfusionPane {
        height: 1fr;
        min-height: 3;
        padding: 0 1;
    }
    ConfusionPane > .confusion--label { color: $foreground; text-style: bold; }
    ConfusionPane > .confusion--muted { color: $foreground-muted; }
    ConfusionPane > .confusion--right { color: $success; }
    ConfusionPane > .confusion--wrong { color: $error; }
    """

    COMPONENT_CLASSES = {
        "confusion--label",
        "confusion--muted",
        "confusion--right",
        "confusion--wrong",
    }

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane (it says why there is no matrix until it is given one)."""
        super().__init__(name=name, id=id, classes=classes)
        self._confusion: Confusion | None = None
        self._reason = NOT_YET
        self._event: Mapping[str, Any] | None = None
        self._run = "RUN"
        """How `dltui plot` names the run (experiment/run-id), once known."""

    @property
    def confusion(self) -> Confusion | None:
        """The matrix shown, if any."""
        return self._confusion

    def show(self, event: Mapping[str, Any] | None, reason: str = NOT_YET) -> None:
        """Show a ``confusion`` event; ``reason`` says why there is none when it is None.

        An event that is not a valid matrix is reported in the pane, in words.
        """
        if event == self._event and reason == self._reason and self._data_version:
            return
        self._event = event
        self._reason = reason
        self._confusion = None
        if event is not None:
            try:
                self._confusion = confusion_from_event(dict(event))
            except ValueError as error:
                self._reason = f"the run's confusion event cannot be shown: {error}"
        self.content_changed()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload when a ``confusion`` event arrives or the run's state changes."""
        if not affects(changes, kinds=("confusion",), status=True, meta=True):
            return
        run_dir = source.run_dir
        self._run = printable(f"{run_dir.parent.name}/{run_dir.name}", keep_newlines=False)
        event = source.latest("confusion")
        self.show(event, why_no_confusion(source.meta, source.status.alive))

    def on_resize(self) -> None:
        """A new size may show more (or fewer) classes."""
        self.content_changed()

    def build_text(self, width: int) -> Text:
        """The pane's lines for ``width`` cells (and the pane's height)."""
        height = self.content_size.height or 24
        return self.describe(width, height)

    def describe(self, width: int, height: int) -> Text:
        """The matrix, scores and worst mistakes, fitted to ``width`` x ``height`` cells."""
        style = self.get_component_rich_style
        muted = style("confusion--muted")
        confusion = self._confusion
        if confusion is None:
            return Text(self._reason, style=muted)
        k = len(confusion.classes)
        text = Text(no_wrap=True, overflow="crop")
        header_lines = _flow(confusion.summary(), width, " · ")
        hint = "rows: true class · columns: predicted · shade: share of the true class"
        header_lines += _flow(hint.split(" · "), width, " · ")

        names = [printable(name, keep_newlines=False) for name in confusion.classes]
        note = _flow(_note(k, k, self._run), width, " · ")
        mistakes_lines = 2
        # Around the matrix: the header lines, a blank, its header row, a blank, the mistakes.
        fixed = len(header_lines) + 1 + 1 + 1 + mistakes_lines
        layout = _layout(confusion, names, width, height - fixed, len(note))
        cell, scores, beside = layout.cell, layout.scores, layout.beside
        shown = shown_classes(confusion, layout.fit)
        index_width = len(str(k - 1))
        # Names too long for the cells: columns are headed by the class's number, which
        # also leads its row label.
        numbered = any(len(names[c]) > cell for c in shown)
        labels = {c: (f"{c:>{index_width}} " if numbered else "") + names[c] for c in shown}
        label = layout.label

        for line in header_lines:
            text.append(line + "\n", muted)
        if len(shown) < k:
            for line in _flow(_note(len(shown), k, self._run), width, " · "):
                text.append(line + "\n", style("confusion--wrong"))
        text.append("\n")
        label_style = style("confusion--label")
        text.append(_CORNER[:label].ljust(label), muted)
        for c in shown:
            head = str(c) if numbered else names[c]
            text.append(" " + head.rjust(cell), label_style)
        if beside:
            text.append(" ")
            for head, w in scores:
                text.append(" " + head.rjust(w), muted)
        text.append("\n")
        heat = self._heat(_worst_share(confusion))
        for c in shown:
            text.append(_cut(labels[c], label).ljust(label), label_style)
            support = confusion.support[c]
            for j in shown:
                count = confusion.cell(c, j)
                share = count / support if support else 0.0
                text.append(" ")
                text.append(*heat(count, share, c == j, cell))
            if beside:
                text.append(" ")
                self._append_scores(text, confusion, c, scores)
            text.append("\n")
        if not beside:
            text.append("\n")
            text.append("class".ljust(label), muted)
            for head, w in scores:
                text.append(" " + head.rjust(w), muted)
            text.append("\n")
            for c in shown:
                text.append(_cut(labels[c], label).ljust(label), label_style)
                self._append_scores(text, confusion, c, scores)
                text.append("\n")
        worst = confusion.most_confused(5)
        text.append("\n")
        if not worst:
            text.append(
                "no mistakes: every sample is on the diagonal" if confusion.total else "no samples",
                muted,
            )
        else:
            parts = ["most confused (true → predicted):"]
            parts += [
                f"{_cut(m.true, _NAME_LIMIT)} → {_cut(m.predicted, _NAME_LIMIT)} "
                f"×{m.count} ({m.share:.0%})"
                for m in worst
            ]
            lines = _flow(parts, width, "  ")[:mistakes_lines]
            text.append("\n".join(lines), style("confusion--wrong"))
        text.rstrip()
        return text

    def _append_scores(
        self, text: Text, confusion: Confusion, c: int, scores: Sequence[tuple[str, int]]
    ) -> None:
        values = [
            _score(confusion.recall[c]),
            _score(confusion.precision[c]),
            _score(confusion.f1[c]),
            f"{confusion.support[c]:,}",
        ]
        for value, (_, w) in zip(values, scores, strict=True):
            text.append(" " + value.rjust(w))

    def _heat(self, worst: float) -> Any:
        """A function (count, share, diagonal, width) -> (cell text, style); ``worst`` is
        the largest share of a mistake, which gets the full error colour."""
        right = self.get_component_rich_style("confusion--right").color
        wrong = self.get_component_rich_style("confusion--wrong").color
        muted = self.get_component_rich_style("confusion--muted")
        background = self.background_colors[1]
        base_right = Color.from_rich_color(right) if right else Color.parse("green")
        base_wrong = Color.from_rich_color(wrong) if wrong else Color.parse("red")

        def cell(count: int, share: float, diagonal: bool, width: int) -> tuple[str, Style]:
            if not count:
                return "·".rjust(width), muted
            base = base_right if diagonal else base_wrong
            # Every mistake shows (a floor of colour) and the worst is the brightest, so the
            # classes confused most stand out even when every mistake is a small share.
            strength = share if diagonal else share / worst if worst else 1.0
            shade = background.blend(base, 0.3 + 0.7 * min(1.0, strength))
            return str(count).rjust(width), Style(
                color=shade.get_contrast_text().rich_color,
                bgcolor=shade.rich_color,
                bold=not diagonal,
            )

        return cell


@dataclass(frozen=True)
class _Layout:
    """How the matrix is drawn: label and cell widths, the score columns and where they
    go, and how many classes fit."""

    label: int
    cell: int
    scores: tuple[tuple[str, int], ...]
    beside: bool
    fit: int


def _note(shown: int, k: int, run: str) -> list[str]:
    """The words saying that only ``shown`` of the ``k`` classes are drawn."""
    return [
        f"showing {shown} of {k} classes: those in the most mistakes",
        f"all: dltui plot {run} --confusion",
    ]


def _layout(
    confusion: Confusion, names: list[str], width: int, rows: int, note_lines: int
) -> _Layout:
    """The layout that shows the most classes in ``width`` x ``rows`` cells (the rows
    left for the matrix and the scores, less ``note_lines`` when classes are left out),
    preferring scores beside the matrix under roomy headers. Cells narrow to the counts'
    digits (and the classes' numbers) before any class is left out."""
    k = len(names)
    digits = max(len(str(count)) for row in confusion.matrix for count in row)
    index_width = len(str(k - 1))
    longest = max(len(name) for name in names)
    support = max(len(f"{n:,}") for n in confusion.support)
    best: _Layout | None = None
    for roomy, beside in ((True, True), (False, True), (False, False)):
        scores = _SCORES_ROOMY if roomy else _SCORES_TIGHT
        scores = (*scores[:3], (scores[3][0], max(scores[3][1], support)))
        scores_width = sum(w + 1 for _, w in scores) + 1 if beside else 0
        layout: _Layout | None = None
        for cell in range(max(digits, 2, min(6, longest)), max(digits, index_width, 1) - 1, -1):
            numbered = longest > cell
            name_width = min(longest, _NAME_LIMIT) + (index_width + 1 if numbered else 0)
            label = min(max(len(_CORNER), name_width), max(4, width // 4))
            room = width - label - scores_width
            truncated = room // (cell + 1) < k
            left = rows - (note_lines if truncated else 0)
            by_height = left if beside else (left - 2) // 2
            fit = max(1, min(k, room // (cell + 1), by_height))
            if layout is None or fit > layout.fit:
                layout = _Layout(label, cell, scores, beside, fit)
            if fit == k:
                return layout
        assert layout is not None
        if best is None or layout.fit > best.fit:
            best = layout
    assert best is not None
    return best


def _worst_share(confusion: Confusion) -> float:
    """The largest share of its true class that one kind of mistake takes (0: none)."""
    return max(
        (
            count / confusion.support[i]
            for i, row in enumerate(confusion.matrix)
            for j, count in enumerate(row)
            if i != j and count and confusion.support[i]
        ),
        default=0.0,
    )


def _flow(parts: list[str], width: int, separator: str) -> list[str]:
    """``parts`` joined by ``separator`` into lines of at most ``width`` cells."""
    lines: list[str] = []
    line = ""
    for part in parts:
        if line and len(line) + len(separator) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line = line + separator + part if line else part
    if line:
        lines.append(line)
    # A part longer than the width wraps at its spaces (a word longer still is cut).
    wrapped = [piece for line in lines for piece in (textwrap.wrap(line, width) or [""])]
    return [_cut(line, width) for line in wrapped]
