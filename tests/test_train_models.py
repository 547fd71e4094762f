"""`dltui run` on a GAN and a character language model (tiny, in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dltui.cli import main
from dltui.runs import RunReader

GAN = """
name = "gan"
[data]
source = "gmm2d"
samples = 256
batch_size = 64
split = { train = 1.0, val = 0.0 }
[model]
kind = "gan"
latent_dim = 4
[[model.generator]]
type = "dense"
out_features = 16
[[model.generator]]
type = "relu"
[[model.generator]]
type = "dense"
out_features = 2
[[model.discriminator]]
type = "dense"
out_features = 16
[[model.discriminator]]
type = "leaky_relu"
[[model.discriminator]]
type = "dense"
out_features = 1
[training]
epochs = 1
log_every = 1
d_steps = 2
"""

LM = """
name = "lm"
[data]
source = "chars"
seq_len = 16
samples = 256
batch_size = 32
[[model.layers]]
type = "embedding"
num_embeddings = {vocab}
embedding_dim = 16
[[model.layers]]
type = "gru"
hidden_size = 32
output = "sequence"
[[model.layers]]
type = "dense"
out_features = {vocab}
[training]
epochs = 1
metrics = ["perplexity"]
"""


def _run(tmp_path: Path, text: str, name: str) -> RunReader:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    root = tmp_path / "runs"
    assert main(["run", str(path), "--runs", str(root), "--quiet"]) == 0
    (run,) = (root / name).iterdir()
    r = RunReader(run)
    r.poll()
    return r


@pytest.mark.slow
def test_gan_records_losses_and_points(tmp_path: Path) -> None:
    r = _run(tmp_path, GAN, "gan")
    # 256 samples / 64 = 4 batches; 2 discriminator steps per generator step -> 2 steps.
    assert len(r.series("train/d_loss")) == 2
    for tag in (
        "train/g_loss",
        "train/d_real",
        "train/d_fake",
        "train/g_loss_epoch",
        "grad_norm/generator/0_dense",
        "grad_norm/discriminator/2_dense",
        "grad_norm/total",
    ):
        assert len(r.series(tag)) > 0, tag
    sample = r.latest("sample")
    assert sample is not None and sample["format"] == "points"
    assert len(sample["points"]) == 500 and len(sample["points"][0]) == 2
    # Real points, recorded once before training: what the generated ones are drawn over.
    reference = [e for e in r.events_of("sample") if e.get("reference") is True]
    assert len(reference) == 1 and reference[0]["epoch"] == 0
    assert len(reference[0]["points"]) == 256 and len(reference[0]["points"][0]) == 2
    assert r.events_of("sample")[0] is reference[0]
    assert [e.get("part") for e in r.events_of("model")] == ["generator", "discriminator"]
    state = torch.load(r.run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert "generator.layers.0.weight" in state["model"]
    assert set(state["optimizer"]) == {"generator", "discriminator"}


@pytest.mark.slow
def test_language_model_records_perplexity_and_text(tmp_path: Path) -> None:
    from dltui.data import describe
    from dltui.spec import parse_experiment

    vocab = len(describe(parse_experiment(LM.format(vocab=2)).data).vocab or [])
    r = _run(tmp_path, LM.format(vocab=vocab), "lm")
    loss = r.series("val/loss").value[-1]
    ppl = r.series("val/perplexity").value[-1]
    assert ppl == pytest.approx(float(torch.tensor(loss).exp()), rel=1e-6)
    assert len(r.series("train/perplexity")) == 1
    sample = r.latest("sample")
    assert sample is not None and sample["format"] == "text"
    assert len(sample["text"]) == 200 and sample["seed"]
    # The run's output shows the text as written, one indented line per line of it.
    log = (r.run_dir / "output.log").read_text()
    shown = log[log.index("sample (epoch ") :].split("\n", 1)[1]
    assert "\\n" not in shown.split("\nepoch")[0]
    assert [line[4:] for line in shown.split("\n")[: sample["text"].count("\n") + 1]] == sample[
        "text"
    ].split("\n")


def test_a_text_sample_is_shown_as_lines_with_controls_as_symbols() -> None:
    from dltui.train.sampling import describe_text_sample

    text = "eaks?\r\nIt is the east,\x1b[2J and\n\nJuliet"
    assert describe_text_sample(7, "ROMEO:\nBut soft", text).split("\n") == [
        "sample (epoch 7), after ROMEO:⏎But soft:",
        "    eaks?",
        "    It is the east,␛[2J and",
        "    ",
        "    Juliet",
    ]
    # A long seed: its last 40 characters, said to be its end.
    first = describe_text_sample(1, "y" * 10 + "x" * 40, "z").split("\n")[0]
    assert first == "sample (epoch 1), after …" + "x" * 40 + ":"
