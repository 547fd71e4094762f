"""Every shipped example validates, and its summary matches the real module.

`dltui summary`'s parameter counts must equal ``sum(p.numel())`` of the built
module, and its output shapes must equal a real forward pass on real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dltui.checks import check_file
from dltui.data import load_data
from dltui.layers.stack import build_stack

EXAMPLES = sorted((Path(__file__).parent.parent / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_valid_and_summary_matches_real_module(path: Path) -> None:
    result = check_file(path)
    assert result.ok, "\n".join(map(str, result.problems))
    experiment = result.experiment
    assert experiment is not None and result.data is not None
    assert experiment.description, f"{path.name} needs a description"
    assert path.read_text().startswith("#"), f"{path.name} needs a comment header"
    splits = load_data(experiment.data, seed=experiment.seed)
    batch = splits.train.x[:4]
    if experiment.is_gan:
        model = experiment.model
        assert model.kind == "gan"
        stacks = {
            "model.generator": (model.generator, torch.randn(4, model.latent_dim)),
            "model.discriminator": (model.discriminator, batch),
        }
    else:
        stacks = {"model.layers": (experiment.sequential.layers, batch)}
    for field, (layers, x) in stacks.items():
        summary = result.stacks[field]
        module = build_stack(
            layers, tuple(x.shape[1:]), input_dtype=str(x.dtype).removeprefix("torch.")
        )
        assert summary.total_params == sum(p.numel() for p in module.parameters())
        module.eval()
        with torch.no_grad():
            out = module(x)
        assert tuple(out.shape[1:]) == summary.output_shape
        # Each row's shape is what that layer really outputs.
        h = x
        for row, layer in zip(summary.rows, module.layers, strict=True):
            with torch.no_grad():
                h = layer(h)
            assert tuple(h.shape[1:]) == tuple(row.out_shape), f"{field} row {row.index}"


def test_there_is_an_example_per_architecture() -> None:
    names = {p.stem for p in EXAMPLES}
    for needed in (
        "perceptron",
        "mlp",
        "cnn",
        "rnn",
        "lstm",
        "gru",
        "transformer",
        "residual",
        "gan",
        "transfer-pretrain",
        "transfer-finetune",
    ):
        assert any(needed in name for name in names), needed
