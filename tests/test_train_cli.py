"""`dltui run` as a command: its exit codes, its progress line and its Ctrl-C messages."""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path

import pytest

from dltui.cli import main
from dltui.runs import RunReader
from dltui.train import cli
from dltui.train.progress import Progress
from dltui.train.signals import StopSignal

EARLY = """
name = "early"
[data]
source = "xor"
samples = 64
batch_size = 16
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = 20
[early_stopping]
monitor = "val_loss"
stopping_threshold = 100.0
"""


@pytest.mark.slow
def test_a_run_ended_by_early_stopping_exits_0(tmp_path: Path) -> None:
    # Early stopping is how training normally ends: schedulers read non-zero as
    # failure, and `dltui run a.toml && dltui run b.toml` must go on.
    exp = tmp_path / "early.toml"
    exp.write_text(EARLY, encoding="utf-8")
    root = tmp_path / "runs"
    assert main(["run", str(exp), "--runs", str(root), "--quiet"]) == 0
    (run,) = (root / "early").iterdir()
    reader = RunReader(run)
    reader.poll()
    assert reader.status.status == "finished"
    assert "early stopping" in (reader.status.reason or "")
    assert [e["epoch"] for e in reader.events_of("epoch")] == [1]


def test_the_documented_exit_codes_are_the_only_ones() -> None:
    codes = {
        name: value
        for name, value in vars(cli).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert codes == {
        "EXIT_FINISHED": 0,
        "EXIT_FAILED": 1,
        "EXIT_INVALID": 2,
        "EXIT_BUSY": 4,
        "EXIT_INTERRUPTED": 130,
    }
    from dltui.tui.messages import EXIT_OUTCOMES

    assert 3 not in EXIT_OUTCOMES  # no trainer exits 3 any more
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "0 finished (early stopping included" in readme
    assert "0 finished (early stopping included)" in cli.EXIT_CODES_HELP


# ------------------------------------------------------------------ the progress line


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def progress_at(
    epoch: int, *, epochs: int = 10, steps: int = 100, resumed_at: int = 0
) -> tuple[Progress, float]:
    """A Progress that started this process at (epoch, resumed_at) and has run 60 s."""
    progress = Progress(epochs=epochs, stream=Terminal())
    progress.start_epoch(epoch, steps)
    progress.tick(resumed_at + 1, 32)  # the first tick fixes where this process began
    progress.started -= 60.0
    assert progress._run_started is not None
    progress._run_started -= 60.0
    progress.samples = 3200
    progress.set_status("loss 0.1234  accuracy 0.9812")
    return progress, progress._run_started + 60.0


def test_the_bar_line_shows_the_whole_runs_progress_and_eta() -> None:
    progress, now = progress_at(1)
    # 60 s for 50 of 1000 steps: 5% of the run, 1140 s (19:00) to go.
    line = progress.line(50, now, 200)
    assert "epoch 1/10 |" in line and "| 50/100" in line
    assert "run 5% ETA 19:00" in line
    assert "samples/s" in line and "loss 0.1234" in line


def test_the_eta_counts_only_what_this_process_did_after_a_resume() -> None:
    # Resumed at epoch 6, step 50: 60 s for 25 steps is 2.4 s a step, and
    # 10 - 5.75 epochs = 425 steps are left: 1020 s.
    progress, now = progress_at(6, resumed_at=50)
    line = progress.line(75, now, 200)
    assert "run 58% ETA 17:00" in line
    # The epoch's own estimate too: 25 steps in 60 s, 25 to go.
    assert "[01:00<01:00," in line


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_the_bar_line_fits_the_terminal(width: int) -> None:
    progress, now = progress_at(3)
    line = progress.line(50, now, width)
    assert len(line) <= width - 3  # room for the ^C a terminal echoes after it
    if width >= 60:
        # What matters most survives a narrow terminal: epoch, step, run progress, ETA.
        assert "epoch 3/10" in line and "50/100" in line
        assert "run 25% ETA" in line
        assert 10 <= len(line.split("|")[1]) <= 40
    if width >= 120:
        assert "samples/s" in line and "accuracy 0.9812" in line


def test_the_bar_line_before_any_progress_has_no_eta() -> None:
    progress = Progress(epochs=5, stream=Terminal())
    progress.start_epoch(1, 10)
    progress.tick(1, 8)
    line = progress.line(1, progress.started, 120)
    assert "run 2% ETA --:--" in line


# ------------------------------------------------------------------ Ctrl-C messages


def test_a_second_ctrl_c_message_starts_on_its_own_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # At a terminal Ctrl-C echoes "^C" where the cursor is; what follows each
    # press must begin a new line instead of being glued to it.
    read_end, write_end = os.pipe()

    class Tty(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    tty = Tty(os.fdopen(write_end, "wb"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", tty)
    stop = StopSignal()
    stop._handle(signal.SIGINT, None)
    assert stop.requested
    with pytest.raises(KeyboardInterrupt):
        stop._handle(signal.SIGINT, None)
    tty.close()
    with os.fdopen(read_end, "rb") as pipe:
        written = pipe.read()
    assert written == b"\n\n"  # one line break after each echoed ^C
    assert "stopping after the current step" in capsys.readouterr().err


def test_no_blank_lines_when_nothing_is_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    stop = StopSignal()
    stop._handle(signal.SIGTERM, None)
    err = capsys.readouterr().err
    # A SIGTERM (the dashboard's stop, a scheduler) has no Ctrl+C to press again, and a
    # second SIGTERM does not exit at once: the hint is Ctrl+C's alone.
    assert err == "SIGTERM: stopping after the current step\n"
    stop = StopSignal()
    stop._handle(signal.SIGINT, None)
    assert capsys.readouterr().err == (
        "SIGINT: stopping after the current step (press Ctrl+C again to exit at once)\n"
    )


@pytest.mark.parametrize(
    ("checkpointed", "checkpoints_on", "claimed"),
    [(True, True, True), (False, True, False), (True, False, False)],
)
def test_the_stop_message_claims_a_checkpoint_only_when_one_was_written(
    checkpointed: bool, checkpoints_on: bool, claimed: bool
) -> None:
    # A second Ctrl-C leaves at once, without a checkpoint: saying
    # "(last checkpoint written)" then sent people looking for a file not there.
    from types import SimpleNamespace

    from dltui.train.loop import Outcome
    from dltui.train.runner import _end

    stream = io.StringIO()
    trainer = SimpleNamespace(
        step=3, epoch=0, train_spec=SimpleNamespace(checkpoint=checkpoints_on)
    )
    code = _end(
        None,
        Progress(epochs=5, stream=stream),
        Outcome("stopped", "interrupted (SIGINT received twice)"),
        trainer,  # type: ignore[arg-type]
        checkpointed=checkpointed,
    )
    assert code == 130
    assert stream.getvalue().startswith("stopped: interrupted (SIGINT received twice)")
    assert ("(last checkpoint written)" in stream.getvalue()) == claimed
