"""One model summary: the trainer, `dltui check` and the browser agree on every experiment.

Each case below is an experiment on which the trainer's set-up and `dltui check`
used to disagree (token ids with an explicit input_shape, metrics that do not
fit the task, a binary loss on many classes, ...). Now both ask
`dltui.model_summary.summarize_experiment`, so the verdicts are the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dltui.checks import check_file
from dltui.model_summary import summarize_experiment
from dltui.spec import load_experiment
from dltui.train.errors import ConfigError
from dltui.train.loop import Trainer
from dltui.train.signals import StopSignal

EXAMPLES = Path(__file__).parent.parent / "experiments"

SPIRALS = """
name = "case"
[data]
source = "spirals"
samples = 64
classes = {classes}
batch_size = 16
[[model.layers]]
type = "dense"
out_features = {out}
[training]
epochs = 1
loss = "{loss}"
metrics = {metrics}
device = "cpu"
"""

CHARS = """
name = "case"
[data]
source = "chars"
corpus = "sonnets"
seq_len = 16
batch_size = 16
[model]
{input_shape}
[[model.layers]]
type = "embedding"
num_embeddings = 59
embedding_dim = 8
[[model.layers]]
type = "dense"
out_features = 59
[training]
epochs = 1
loss = "cross_entropy"
metrics = {metrics}
device = "cpu"
"""

GAN = """
name = "case"
[data]
source = "gmm2d"
samples = 64
split = {{ train = 1.0, val = 0.0 }}
batch_size = 16
[model]
kind = "gan"
latent_dim = 4
freeze = {freeze}
[[model.generator]]
type = "dense"
out_features = 2
[[model.discriminator]]
type = "dense"
out_features = {disc_out}
[training]
epochs = 1
loss = "bce_with_logits"
device = "cpu"
"""

CASES = {
    "tokens with an explicit input_shape": CHARS.format(
        input_shape="input_shape = [16]", metrics='["perplexity"]'
    ),
    "accuracy on a language model": CHARS.format(input_shape="", metrics='["accuracy"]'),
    "perplexity on classes": SPIRALS.format(
        classes=2, out=2, loss="cross_entropy", metrics='["perplexity"]'
    ),
    "bce on three classes, one unit each": SPIRALS.format(
        classes=3, out=3, loss="bce_with_logits", metrics="[]"
    ),
    "bce on two classes, two units": SPIRALS.format(
        classes=2, out=2, loss="bce_with_logits", metrics="[]"
    ),
    "mse on class labels": SPIRALS.format(classes=2, out=2, loss="mse", metrics="[]"),
    "a valid classifier": SPIRALS.format(
        classes=3, out=3, loss="cross_entropy", metrics='["accuracy"]'
    ),
    "a discriminator with three outputs": GAN.format(disc_out=3, freeze="[]"),
    "a freeze selector no stack has": GAN.format(disc_out=1, freeze='["nope"]'),
    "a valid GAN": GAN.format(disc_out=1, freeze="[]"),
}


def _trainer_accepts(path: Path, tmp_path: Path) -> bool:
    trainer = Trainer(
        load_experiment(path),
        writer=None,
        progress=None,
        device=torch.device("cpu"),
        epochs=1,
        runs_root=tmp_path / "runs",
        stop=StopSignal(),
    )
    try:
        trainer.setup()
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_and_the_trainer_give_the_same_verdict(case: str, tmp_path: Path) -> None:
    path = tmp_path / "case.toml"
    path.write_text(CASES[case])
    result = check_file(path)
    assert _trainer_accepts(path, tmp_path) == result.ok, [str(p) for p in result.problems]


@pytest.mark.parametrize("name", ["lstm-chars", "transformer-chars"])
def test_token_models_are_fed_token_ids(name: str) -> None:
    summary = summarize_experiment(load_experiment(EXAMPLES / f"{name}.toml"))
    assert summary.ok, [str(p) for p in summary.problems]
    assert summary.inputs["model.layers"].dtype == "int64"
    assert summary.total_params > 0


def test_a_discriminator_may_output_one_logit_as_a_scalar() -> None:
    from dltui.model_summary import GAN_LOGIT_SHAPES

    # The trainer reshapes the discriminator's output to one value per sample.
    assert (1,) in GAN_LOGIT_SHAPES and () in GAN_LOGIT_SHAPES


def test_check_reports_what_the_summary_finds(tmp_path: Path) -> None:
    path = tmp_path / "case.toml"
    path.write_text(GAN.format(disc_out=3, freeze="[]"))
    result = check_file(path)
    (problem,) = result.problems
    assert problem.path == "model.discriminator[0]" and "one logit" in problem.message
    assert problem.line is not None  # placed in the file
