"""Tags of different tools that are one metric are compared as one."""

from __future__ import annotations

import pytest

from dltui.logs.tag_match import metric_key, shared_metrics


@pytest.mark.parametrize(
    ("tag", "key"),
    [
        ("train/loss", ("train", "loss")),
        ("Loss/train", ("train", "loss")),
        ("train_loss_step", ("train", "loss")),
        ("loss", ("train", "loss")),
        ("val/loss", ("val", "loss")),
        ("Loss/validation", ("val", "loss")),
        ("val_loss", ("val", "loss")),
        ("val_acc", ("val", "accuracy")),
        ("Accuracy/val", ("val", "accuracy")),
        ("val/accuracy", ("val", "accuracy")),
        ("train/loss_epoch", ("train", "loss_epoch")),
        ("train_loss_epoch", ("train", "loss_epoch")),
        ("test/loss", ("test", "loss")),
        ("lr", ("train", "lr")),
        ("grad_norm/0_dense", ("train", "grad_norm/0_dense")),
        ("_step", ("train", "_step")),
    ],
)
def test_each_tool_s_spelling_reads_as_split_and_metric(tag: str, key: tuple[str, str]) -> None:
    assert metric_key(tag) == key


def test_a_tensorboard_run_and_a_dltui_run_share_their_losses() -> None:
    dltui = ["train/loss", "val/loss", "val/accuracy", "lr", "grad_norm/total"]
    tensorboard = ["Loss/train", "Loss/val", "Accuracy/val", "custom"]
    keras = ["loss", "val_loss", "val_accuracy"]
    metrics = {m.name: m.tags for m in shared_metrics([dltui, tensorboard, keras])}
    assert metrics["train/loss"] == ("train/loss", "Loss/train", "loss")
    assert metrics["val/loss"] == ("val/loss", "Loss/val", "val_loss")
    assert metrics["val/accuracy"] == ("val/accuracy", "Accuracy/val", "val_accuracy")
    assert metrics["custom"] == (None, "custom", None)
    assert metrics["grad_norm/total"] == ("grad_norm/total", None, None)


def test_the_name_shown_is_the_spelling_most_runs_use() -> None:
    (metric,) = shared_metrics([["Loss/train"], ["train/loss"], ["train/loss"]])
    assert metric.name == "train/loss"
    (metric,) = shared_metrics([["Loss/train"], ["train/loss"]])
    assert metric.name == "Loss/train"  # a tie: the first run's


def test_two_tags_of_one_run_are_never_merged() -> None:
    # This run logs both; overlaying either with the other run's loss would be a guess.
    metrics = shared_metrics([["loss", "train/loss"], ["Loss/train"]])
    assert {(m.name, m.tags) for m in metrics} == {
        ("loss", ("loss", None)),
        ("train/loss", ("train/loss", None)),
        ("Loss/train", (None, "Loss/train")),
    }
