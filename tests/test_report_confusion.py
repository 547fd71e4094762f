"""The confusion matrix: counted at the final test, recorded as an event, read back, shown."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from dltui.cli import main
from dltui.report.confusion import (
    class_scores,
    confusion_fields,
    confusion_from_event,
)
from dltui.report.confusion_text import format_confusion
from dltui.runs import RunReader
from dltui.train.metrics import MetricSet

# A known case, 3 classes, 8 samples. Rows true, columns predicted:
#   true 0: predicted 0, 0, 1        -> [2, 1, 0]
#   true 1: predicted 1, 0           -> [1, 1, 0]
#   true 2: predicted 2, 2, 1        -> [0, 1, 2]
TARGETS = [0, 0, 0, 1, 1, 2, 2, 2]
PREDICTED = [0, 0, 1, 1, 0, 2, 2, 1]
EXPECTED = [[2, 1, 0], [1, 1, 0], [0, 1, 2]]


def test_the_final_test_metric_set_counts_a_known_case() -> None:
    logits = torch.full((8, 3), -1.0)
    logits[torch.arange(8), torch.tensor(PREDICTED)] = 2.0
    metrics = MetricSet(
        [], task="classification", num_classes=3, loss="cross_entropy",
        device=torch.device("cpu"), confusion=True,
    )  # fmt: skip
    assert metrics.active  # counted even when the experiment asks for no metric
    metrics.update(logits[:5], torch.tensor(TARGETS[:5]))  # two batches
    metrics.update(logits[5:], torch.tensor(TARGETS[5:]))
    assert metrics.take_confusion() == EXPECTED
    metrics.update(logits[5:], torch.tensor(TARGETS[5:]))  # taken means reset
    assert metrics.take_confusion() == [[0, 0, 0], [0, 0, 0], [0, 1, 2]]


def test_a_single_logit_binary_model_is_counted_as_two_classes() -> None:
    metrics = MetricSet(
        [], task="classification", num_classes=2, loss="bce_with_logits",
        device=torch.device("cpu"), confusion=True,
    )  # fmt: skip
    metrics.update(torch.tensor([[3.0], [-2.0], [1.0], [-1.0]]), torch.tensor([1, 0, 0, 0]))
    assert metrics.take_confusion() == [[2, 1], [0, 1]]


def test_no_confusion_outside_classification() -> None:
    metrics = MetricSet(
        ["mae"], task="regression", num_classes=None, loss="mse",
        device=torch.device("cpu"), confusion=True,
    )  # fmt: skip
    assert metrics.confusion is None and metrics.take_confusion() is None


def test_class_scores_by_hand() -> None:
    precision, recall, f1, support = class_scores(EXPECTED)
    # Column sums (predicted): 3, 3, 2. Row sums (support): 3, 2, 3.
    assert support == [3, 2, 3]
    assert precision == pytest.approx([2 / 3, 1 / 3, 2 / 2])
    assert recall == pytest.approx([2 / 3, 1 / 2, 2 / 3])
    assert f1 == pytest.approx([2 / 3, 2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2), 0.8])


def test_undefined_scores_are_nan_not_zero() -> None:
    # Class 2 is never predicted (no precision) and class 1 never occurs (no recall).
    precision, recall, f1, support = class_scores([[3, 0, 0], [0, 0, 0], [1, 1, 0]])
    assert math.isnan(precision[2]) and math.isnan(recall[1])
    assert math.isnan(f1[1]) and math.isnan(f1[2])
    assert recall[2] == 0.0 and support == [3, 0, 2]


def test_class_scores_equal_torchmetrics_per_class() -> None:
    from torchmetrics.classification import (
        MulticlassF1Score,
        MulticlassPrecision,
        MulticlassRecall,
    )

    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, 5, (400,), generator=generator)
    pred = torch.where(
        torch.rand(400, generator=generator) < 0.7, target, torch.randint(0, 5, (400,))
    )
    matrix = [[int(((target == i) & (pred == j)).sum()) for j in range(5)] for i in range(5)]
    precision, recall, f1, _ = class_scores(matrix)
    for ours, metric in (
        (precision, MulticlassPrecision),
        (recall, MulticlassRecall),
        (f1, MulticlassF1Score),
    ):
        theirs = metric(5, average="none")(pred, target).tolist()
        assert ours == pytest.approx(theirs)


def test_an_event_reads_back_and_bad_ones_are_refused() -> None:
    event = {"kind": "confusion", "weights": "best (epoch 2)", "epoch": 2}
    event.update(confusion_fields(EXPECTED, ["cat", "dog", "eel"]))
    confusion = confusion_from_event(event)
    assert confusion.classes == ("cat", "dog", "eel")
    assert (confusion.total, confusion.correct) == (8, 5)
    assert confusion.accuracy == pytest.approx(5 / 8)
    assert confusion.cell(2, 1) == 1
    rows = confusion.rows()
    assert [row.counts for row in rows] == [tuple(r) for r in EXPECTED]
    assert rows[1].recall == pytest.approx(0.5)
    worst = confusion.most_confused(2)
    assert [(m.true, m.predicted, m.count) for m in worst] == [
        ("cat", "dog", 1),
        ("dog", "cat", 1),
    ]
    # Another writer's event without scores or names: derived, and named 0..k-1.
    bare = confusion_from_event({"kind": "confusion", "matrix": EXPECTED})
    assert bare.classes == ("0", "1", "2") and bare.precision == confusion.precision
    for broken, why in (
        ({"matrix": []}, "non-empty"),
        ({"matrix": [[1, 2], [3]]}, "row 1"),
        ({"matrix": [[1, -2], [3, 4]]}, "negative"),
        ({"matrix": [[1, "2"], [3, 4]]}, "non-integer"),
    ):
        with pytest.raises(ValueError, match=why):
            confusion_from_event({"kind": "confusion", **broken})


def test_class_names_from_files_cannot_drive_the_terminal() -> None:
    event = {"kind": "confusion", **confusion_fields([[1, 0], [0, 1]], ["a\x1b]0;x\x07", "b"])}
    text = format_confusion(confusion_from_event(event), title="t", width=80)
    assert "\x1b" not in text and "\x07" not in text


def test_ten_classes_fit_80_columns_and_narrow_terminals_still_get_the_scores() -> None:
    matrix = [[30 if i == j else 0 for j in range(10)] for i in range(10)]
    matrix[3][8] = 4
    event = {"kind": "confusion", **confusion_fields(matrix, [str(i) for i in range(10)])}
    confusion = confusion_from_event(event)
    wide = format_confusion(confusion, title="digits", width=80)
    assert max(len(line) for line in wide.splitlines()) <= 80
    assert "recall  precision     f1  support" in wide  # beside the matrix
    row = next(line for line in wide.splitlines() if line.startswith("3 "))
    assert row.split()[:11] == ["3", "·", "·", "·", "30", "·", "·", "·", "·", "4", "·"]
    assert "3 → 8 ×4 (12%)" in wide
    narrow = format_confusion(confusion, title="digits", width=50)
    assert "class  recall" in narrow  # the scores moved under the matrix
    tiny = format_confusion(confusion, title="digits", width=30)
    assert "needs" in tiny and "dltui export --format json" in tiny


@pytest.mark.slow
def test_a_csv_classification_run_records_its_confusion_with_the_label_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["x1,x2,label"]
    for i in range(120):
        label = ("cat", "dog", "eel")[i % 3]
        centre = {"cat": (0.0, 0.0), "dog": (3.0, 0.0), "eel": (0.0, 3.0)}[label]
        rows.append(f"{centre[0] + (i % 7) * 0.05},{centre[1] + (i % 5) * 0.05},{label}")
    (tmp_path / "rows.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "table.toml").write_text(
        'name = "table"\nseed = 1\n[data]\nsource = "csv"\npath = "rows.csv"\n'
        'target = "label"\nbatch_size = 16\nsplit = { train = 0.6, val = 0.2, test = 0.2 }\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 3\n'
        '[training]\nepochs = 3\ndevice = "cpu"\nmetrics = ["accuracy"]\n'
    )
    runs = tmp_path / "runs"
    argv = ["run", str(tmp_path / "table.toml"), "--runs", str(runs), "--quiet", "--name", "r"]
    assert main(argv) == 0
    reader = RunReader(runs / "table" / "r")
    event = reader.latest("confusion")
    assert event is not None and event["classes"] == ["cat", "dog", "eel"]
    confusion = confusion_from_event(event)
    test = reader.latest("test")
    assert confusion.total == 24  # 20 % of 120
    assert confusion.accuracy == pytest.approx(test["test/accuracy"])
    assert event["weights"] == test["weights"]
    capsys.readouterr()
    assert main(["plot", "table/r", "--confusion", "--runs", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "cat" in out and "24 samples" in out


def test_f1_precision_recall_are_macro_averages_not_accuracy() -> None:
    # Micro-averaged multiclass F1, precision and recall all equal accuracy (5/8 here):
    # a metric named f1 that tells nothing new. Macro: each class's score, averaged.
    logits = torch.full((8, 3), -1.0)
    logits[torch.arange(8), torch.tensor(PREDICTED)] = 2.0
    metrics = MetricSet(
        ["accuracy", "precision", "recall", "f1"], task="classification", num_classes=3,
        loss="cross_entropy", device=torch.device("cpu"),
    )  # fmt: skip
    metrics.update(logits, torch.tensor(TARGETS))
    values = metrics.compute()
    precision, recall, f1, _ = class_scores(EXPECTED)
    assert values["accuracy"] == pytest.approx(5 / 8)
    assert values["precision"] == pytest.approx(sum(precision) / 3)
    assert values["recall"] == pytest.approx(sum(recall) / 3)
    assert values["f1"] == pytest.approx(sum(f1) / 3)
    assert values["precision"] != pytest.approx(values["accuracy"])
