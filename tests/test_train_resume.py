"""`dltui run --resume` after a crash: no replayed steps, nothing lost; lr once per step."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from test_train import SPIRALS, only_run, reader, write

from dltui.cli import main


def experiment(tmp_path: Path, *, epochs: int, log_every: int = 3) -> Path:
    text = SPIRALS.format(name="tiny", epochs=epochs, samples=200, extra="")
    return write(tmp_path, text.replace("log_every = 3", f"log_every = {log_every}"), "tiny.toml")


def assert_steps_increase(run_dir: Path) -> None:
    r = reader(run_dir)
    for tag in r.tags():
        steps = r.series(tag).step
        assert np.all(np.diff(steps) > 0), (tag, steps.tolist())


@pytest.mark.slow
def test_resume_from_an_older_checkpoint_does_not_replay_steps(tmp_path: Path) -> None:
    """As kill -9 leaves a run: records past the step of the last.pt it resumes from."""
    exp = experiment(tmp_path, epochs=5)
    root = tmp_path / "runs"
    args = ["run", str(exp), "--runs", str(root), "--quiet", "--threads", "1"]
    assert main([*args, "--epochs", "2", "--name", "r"]) == 0
    run = only_run(root, "tiny")
    older = tmp_path / "last-epoch-2.pt"
    shutil.copy(run / "checkpoints" / "last.pt", older)
    step_2 = torch.load(older, weights_only=True)["step"]
    # Epoch 3 is trained and recorded, then the process "dies" before a newer last.pt
    # survives: the run is resumed from epoch 2's checkpoint.
    assert main([*args, "--epochs", "3", "--resume", str(run)]) == 0
    before = reader(run)
    recorded = {tag: before.series(tag).step.copy() for tag in before.tags()}
    shutil.copy(older, run / "checkpoints" / "last.pt")
    assert main([*args, "--epochs", "5", "--resume", str(run)]) == 0

    assert_steps_increase(run)
    r = reader(run)
    assert [e["epoch"] for e in r.events_of("epoch")] == [1, 2, 3, 4, 5]
    final = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert r.series("train/loss").step[-1] <= final
    # Nothing recorded up to the checkpoint was lost.
    for tag, steps in recorded.items():
        kept = r.series(tag).step
        np.testing.assert_array_equal(kept[kept <= step_2], steps[steps <= step_2])
    assert r.events_of("resume")[-1]["step"] == step_2


@pytest.mark.slow
def test_lr_is_recorded_once_at_a_step_where_an_epoch_ends_on_a_log_step(tmp_path: Path) -> None:
    # 120 training samples / 32 = 4 steps per epoch; logging every 2 steps, every
    # epoch ends on a log step.
    exp = experiment(tmp_path, epochs=3, log_every=2)
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet", "--threads", "1"]) == 0
    r = reader(only_run(root, "tiny"))
    assert r.series("lr").step.tolist() == [2, 4, 6, 8, 10, 12]
    assert_steps_increase(only_run(root, "tiny"))


@pytest.mark.slow
def test_records_reach_the_files_before_each_checkpoint(tmp_path: Path, monkeypatch) -> None:
    """A kill right after a checkpoint must not lose what a resume from it will not redo."""
    import dltui.train.checkpoint as policy
    from dltui.runs import RunReader

    monkeypatch.setattr(policy, "CHECKPOINT_INTERVAL", 0.0)
    monkeypatch.setattr(policy, "CHECKPOINT_COST_RATIO", 0.0)
    real = policy.save_checkpoint
    seen: list[tuple[int, int, int]] = []

    def spy(path: Path, state: dict) -> None:
        on_disk = RunReader(path.parent.parent)  # what a kill now would leave
        recorded = on_disk.events_of("epoch")
        steps = on_disk.series("train/loss").step
        seen.append((state["step"], recorded[-1]["step"] if recorded else -1, int(steps[-1])))
        real(path, state)

    monkeypatch.setattr(policy, "save_checkpoint", spy)
    exp = experiment(tmp_path, epochs=4)
    assert main(["run", str(exp), "--runs", str(tmp_path / "runs"), "--quiet"]) == 0
    assert len(seen) >= 4
    for step, epoch_step, loss_step in seen:
        assert epoch_step == step and loss_step == step - step % 3, seen


@pytest.mark.slow
def test_resume_trains_to_the_epochs_the_run_was_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--epochs 3` on a file of 6 epochs, stopped in epoch 2, resumed: it ends at 3."""
    from dltui.train.loop import Trainer

    exp = experiment(tmp_path, epochs=6)
    root = tmp_path / "runs"
    args = ["run", str(exp), "--runs", str(root), "--quiet", "--threads", "1"]
    real_poll = Trainer.poll_stop

    def stop_in_epoch_two(self: Trainer) -> None:
        real_poll(self)
        if self.epoch >= 1:
            self.stop.request("test: stopped in epoch 2")

    monkeypatch.setattr(Trainer, "poll_stop", stop_in_epoch_two)
    assert main([*args, "--epochs", "3", "--name", "r"]) == 130
    monkeypatch.setattr(Trainer, "poll_stop", real_poll)
    run = only_run(root, "tiny")
    assert "epochs = 3" in (run / "experiment.toml").read_text()
    assert reader(run).meta["config"]["training"]["epochs"] == 3
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["epochs_target"] == 3

    # Resumed with the original file named, and without --epochs: still 3, not 6.
    assert main(["run", str(exp), "--resume", str(run), "--quiet", "--threads", "1"]) == 0
    assert [e["epoch"] for e in reader(run).events_of("epoch")] == [1, 2, 3]
    # An explicit --epochs on resume moves the target (and the checkpoint keeps it).
    shutil.copy(run / "checkpoints" / "last.pt", tmp_path / "at-3.pt")
    assert main([*args, "--epochs", "4", "--resume", str(run)]) == 0
    assert [e["epoch"] for e in reader(run).events_of("epoch")] == [1, 2, 3, 4]
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["epochs_target"] == 4
    # ... and the dashboard's "epoch 4/4" follows the resume, not meta.json's first target.
    from dltui.tui.widgets.changes import target_epochs

    assert reader(run).events_of("resumed")[-1]["epochs"] == 4
    assert target_epochs(reader(run)) == 4
