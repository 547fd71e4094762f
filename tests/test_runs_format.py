"""The run format's names: one module, numpy-free, whose tag rules say what a tag is."""

from __future__ import annotations

import subprocess
import sys

from dltui import run_format as fmt


def test_the_format_module_imports_nothing_heavy() -> None:
    code = "import sys, dltui.run_format; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert "numpy" not in out and "torch" not in out and "textual" not in out


def test_epoch_values_are_the_same_metric() -> None:
    tags = {"train/loss", "train/loss_epoch", "train/d_loss", "train/d_loss_epoch", "val/x_epoch"}
    assert fmt.is_epoch_value("train/d_loss_epoch", tags)
    assert fmt.metric_of("train/d_loss_epoch") == "d_loss"
    assert fmt.is_loss("train/g_loss_epoch") and fmt.is_loss("val/loss")
    assert not fmt.is_epoch_value("val/x_epoch", tags)  # no per-step twin: a metric of its own
    assert fmt.is_metric("val/accuracy") and not fmt.is_metric("train/d_real")
    assert fmt.is_own("grad_norm/total") and fmt.is_own("lr") and not fmt.is_own("train/loss")
    assert fmt.split_of("lr") is None and fmt.split_of("test/f1") == "test"


def test_every_exit_code_has_words() -> None:
    codes = {v for k, v in vars(fmt).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert codes <= set(fmt.EXIT_OUTCOMES)


def test_the_names_are_spelled_by_their_rules() -> None:
    assert fmt.tag("train", fmt.LOSS) == fmt.TRAIN_LOSS and fmt.tag("val", "loss") == fmt.VAL_LOSS
    assert fmt.LAST_CHECKPOINT_PATH == "checkpoints/last.pt"
    assert fmt.gpu_tag(1, "util") == "system/gpu1/util" and fmt.is_own(fmt.gpu_tag(0, "temp"))
    assert fmt.is_own(fmt.EPOCH_TIME) and fmt.is_own(fmt.SYSTEM_CPU)
    assert {fmt.D_LOSS, fmt.G_LOSS} <= fmt.LOSS_NAMES and fmt.D_REAL in fmt.GAN_SCORES


def test_the_trainer_records_by_these_names() -> None:
    # What the system sampler and a GAN step record is named here, not spelled again.
    from dltui.train.system import SystemSampler

    sample = SystemSampler(lambda values: None).sample()
    assert {fmt.SYSTEM_CPU, fmt.SYSTEM_RAM, fmt.SYSTEM_RSS} <= set(sample)
