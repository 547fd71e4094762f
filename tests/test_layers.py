"""Layer kinds: declared fields, validation, shape errors, freezing, behaviour, docs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from dltui.layers import Layer, LayerSelectorError, LayerShapeError, layer_kinds
from dltui.layers.kinds.structure import Residual
from dltui.layers.stack import build_stack, summarize_stack
from dltui.spec import SpecError, parse_experiment
from dltui.spec.model import SequentialModel

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = {
    "core",
    "activation",
    "convolution",
    "pooling",
    "normalization",
    "recurrent",
    "attention",
    "structure",
}


def stack(*layers: dict[str, Any]) -> list[Any]:
    """Validated layers, exactly as an experiment file would give them."""
    return list(SequentialModel.model_validate({"layers": list(layers)}).layers)


def problem(layers: list[Any], input_shape: tuple[int, ...], dtype: str = "float32") -> str:
    found = summarize_stack(layers, input_shape, input_dtype=dtype).problem
    assert found is not None
    return str(found)


# --------------------------------------------------------------------------- declarations


@pytest.mark.parametrize("kind", list(layer_kinds()))
def test_kind_declares_what_the_builder_reads(kind: str) -> None:
    cls = layer_kinds()[kind]
    assert cls.category in CATEGORIES
    assert cls.__doc__ and cls.__doc__.strip()
    assert "->" in cls.shapes
    for name, info in cls.model_fields.items():
        if name != "type":
            assert info.description, f"{kind}.{name} has no description"


def test_numeric_fields_declare_their_ranges() -> None:
    # Counts and sizes must carry a lower bound the builder can turn into a validator.
    for kind, cls in layer_kinds().items():
        for name, info in cls.model_fields.items():
            if info.annotation is int and name not in ("dim",):
                bounds = [m for m in info.metadata if type(m).__name__ in ("Ge", "Gt")]
                assert bounds, f"{kind}.{name} has no lower bound"


def test_unknown_kind_and_key_are_reported_with_paths() -> None:
    with pytest.raises(ValidationError) as caught:
        stack({"type": "dense", "out_features": 3, "units": 4})
    assert "units" in str(caught.value)
    with pytest.raises(ValidationError):
        stack({"type": "convolution2d", "out_channels": 3})


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({"type": "dense", "out_features": 0}, "out_features", "greater than or equal to 1"),
        ({"type": "dropout", "p": 1.0}, "p", "less than 1"),
        ({"type": "reshape", "shape": [-1, -1]}, "shape", "at most one entry may be -1"),
        ({"type": "reshape", "shape": [0, 3]}, "shape", "positive or -1"),
        ({"type": "permute", "dims": [0, 0]}, "dims", "permutation"),
        (
            {"type": "embedding", "num_embeddings": 5, "embedding_dim": 2, "padding_idx": 5},
            "padding_idx",
            "below num_embeddings (5)",
        ),
        ({"type": "hardtanh", "min_val": 1, "max_val": 0}, "max_val", "greater than min_val"),
        ({"type": "gelu", "approximate": "fast"}, "approximate", "'none' or 'tanh'"),
        (
            {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"},
            "padding",
            '"same" padding needs stride 1',
        ),
        (
            {"type": "conv2d", "out_channels": 5, "kernel_size": 3, "groups": 2},
            "groups",
            "must divide out_channels (5)",
        ),
        (
            {"type": "conv_transpose2d", "out_channels": 1, "kernel_size": 3, "output_padding": 1},
            "output_padding",
            "smaller than stride (1)",
        ),
        ({"type": "maxpool2d", "kernel_size": 2, "padding": 2}, "padding", "at most half"),
        ({"type": "lstm", "hidden_size": 4, "dropout": 0.2}, "dropout", "num_layers >= 2"),
        ({"type": "rnn", "hidden_size": 4, "nonlinearity": "sigmoid"}, "nonlinearity", "tanh"),
        ({"type": "residual", "layers": []}, "layers", "at least 1"),
        (
            {"type": "residual", "layers": [{"type": "relu"}], "projection": "conv"},
            "projection",
            "auto",
        ),
    ],
)
def test_bad_values_name_the_field(config: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        stack(config)
    errors = caught.value.errors()
    assert any(field in map(str, e["loc"]) and words in e["msg"] for e in errors), errors


def test_lstm_dropout_is_fine_with_stacked_layers() -> None:
    (layer,) = stack({"type": "lstm", "hidden_size": 4, "num_layers": 2, "dropout": 0.2})
    assert layer.dropout == 0.2


NESTED_BAD = """
name = "nested"
[data]
source = "spirals"

[[model.layers]]
type = "dense"
out_features = 8

[[model.layers]]
type = "residual"
[[model.layers.layers]]
type = "dense"
out_features = 8
[[model.layers.layers]]
type = "residual"
[[model.layers.layers.layers]]
type = "conv2d"
out_channels = 0
kernel_size = 3
[[model.layers.layers]]
type = "dense"
out_featurs = 8
"""


def test_nested_validation_through_the_experiment_file() -> None:
    with pytest.raises(SpecError) as caught:
        parse_experiment(NESTED_BAD, check_files=False)
    paths = {p.path: p for p in caught.value.problems}
    assert "model.layers[1].layers[1].layers[0].out_channels" in paths
    assert "model.layers[1].layers[2].out_features" in paths
    typo = paths["model.layers[1].layers[2].out_featurs"]
    assert typo.hint == "did you mean `out_features`?"
    assert typo.line is not None


def test_nested_layers_parse_into_kinds() -> None:
    good = NESTED_BAD.replace("out_channels = 0", "out_channels = 2").replace(
        "out_featurs", "out_features"
    )
    experiment = parse_experiment(good, check_files=False)
    residual: Any = experiment.sequential.layers[1]
    assert isinstance(residual, Residual)
    inner = residual.layers[1]
    assert isinstance(inner, Residual)
    assert inner.layers[0].type == "conv2d"


# --------------------------------------------------------------------------- shape errors


@pytest.mark.parametrize(
    ("config", "input_shape", "words"),
    [
        (
            {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
            (64,),
            "conv2d needs (C, H, W) input, got (64,): add a reshape layer, or use dense",
        ),
        (
            {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "groups": 2},
            (3, 8, 8),
            "groups=2 needs input channels divisible by 2, got 3",
        ),
        (
            {"type": "conv2d", "out_channels": 4, "kernel_size": 5},
            (1, 3, 3),
            "window of 5 (kernel_size=5, dilation=1) does not fit input (1, 3, 3)",
        ),
        (
            {"type": "conv1d", "out_channels": 4, "kernel_size": 3},
            (3, 8, 8),
            "conv1d needs (C, L) input, got (3, 8, 8)",
        ),
        (
            {"type": "conv_transpose2d", "out_channels": 4, "kernel_size": 3},
            (16,),
            "conv_transpose2d needs (C, H, W) input",
        ),
        (
            {"type": "conv_transpose2d", "out_channels": 4, "kernel_size": 1, "padding": 2},
            (2, 3, 3),
            "padding 2 is too large",
        ),
        ({"type": "dropout2d"}, (8,), "dropout2d needs (C, H, W) input"),
        ({"type": "reshape", "shape": [5, -1]}, (12,), "needs a multiple of 5 values per sample"),
        (
            {"type": "reshape", "shape": [2, 5]},
            (12,),
            "needs 10 values per sample, but (12,) has 12",
        ),
        ({"type": "permute", "dims": [1, 0]}, (2, 3, 4), "needs a 2-dimensional input"),
        ({"type": "softmax", "dim": 2}, (4, 5), "softmax over dim 2"),
        ({"type": "prelu", "num_parameters": 4}, (3, 5, 5), "set num_parameters to 1 or 3"),
        ({"type": "maxpool2d"}, (3, 8), "use maxpool1d for (C, L)"),
        ({"type": "avgpool1d"}, (3, 8, 8), "use avgpool2d for (C, H, W)"),
        ({"type": "maxpool2d", "kernel_size": 4}, (3, 3, 3), "maxpool2d window 4 does not fit"),
        ({"type": "maxpool1d"}, (10,), "pooling needs spatial dimensions"),
        ({"type": "adaptive_avgpool2d"}, (3, 8), "adaptive_avgpool2d needs (C, H, W)"),
        ({"type": "global_avgpool"}, (16,), "already one vector"),
        ({"type": "sequence_pool"}, (16,), "sequence_pool needs (L, F) input"),
        ({"type": "batchnorm"}, (2, 3, 4, 5), "batchnorm needs (F,), (C, L) or (C, H, W)"),
        ({"type": "groupnorm", "num_groups": 4}, (6, 2, 2), "6 channels"),
        ({"type": "lstm", "hidden_size": 4}, (10,), "add an embedding layer"),
        ({"type": "gru", "hidden_size": 4}, (3, 8, 8), "gru needs (L, F) input"),
        ({"type": "positional_encoding", "max_len": 8}, (10, 4), "max_len=8"),
        ({"type": "positional_encoding"}, (10,), "add an embedding layer"),
        ({"type": "self_attention", "num_heads": 3}, (5, 8), "8 is not divisible by 3"),
        ({"type": "transformer_encoder", "num_heads": 5}, (5, 8), "use num_heads in [1, 2, 4, 8]"),
    ],
)
def test_check_input_explains(
    config: dict[str, Any], input_shape: tuple[int, ...], words: str
) -> None:
    (layer,) = stack(config)
    with pytest.raises(LayerShapeError, match=None) as caught:
        layer.check_input(input_shape)
    assert words in str(caught.value)
    # The summary reports the same reason at the layer's path.
    assert problem([layer], input_shape) == f"model.layers[0]: {caught.value}"


def test_embedding_needs_tokens_and_others_need_floats() -> None:
    late_embedding = stack(
        {"type": "dense", "out_features": 4},
        {"type": "embedding", "num_embeddings": 10, "embedding_dim": 3},
    )
    assert "embedding needs integer token ids" in problem(late_embedding, (6,))
    assert problem(stack({"type": "lstm", "hidden_size": 3}), (6,), "int64") == (
        "model.layers[0]: lstm needs float features, but its input (6,) is integer token ids: "
        "start the stack with an embedding layer"
    )
    # Shape-only layers pass token ids through.
    tokens = stack(
        {"type": "reshape", "shape": [2, 3]},
        {"type": "flatten"},
        {"type": "embedding", "num_embeddings": 10, "embedding_dim": 3},
    )
    assert summarize_stack(tokens, (6,), input_dtype="int64").output_shape == (6, 3)


def test_first_problem_stops_the_summary() -> None:
    layers = stack(
        {"type": "dense", "out_features": 8},
        {"type": "relu"},
        {"type": "maxpool2d"},
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3},
    )
    summary = summarize_stack(layers, (4,), field="model.discriminator")
    assert summary.problem is not None
    assert (summary.problem.index, summary.problem.path) == (2, "model.discriminator[2]")
    assert [row.type for row in summary.rows] == ["dense", "relu"]
    assert summary.output_shape is None
    assert summary.total_params == 40


def test_nested_residual_problem_has_the_nested_path() -> None:
    layers = stack(
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool2d"},
        {"type": "batchnorm"},
        {
            "type": "residual",
            "layers": [
                {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
                {"type": "lstm", "hidden_size": 4},
            ],
        },
    )
    found = summarize_stack(layers, (3, 8, 8)).problem
    assert found is not None
    assert found.index == 4
    assert found.path == "model.layers[4].layers[1]"
    assert found.message.startswith("lstm needs (L, F) input, got (4, 4, 4)")


def test_residual_projection_errors_name_the_shapes() -> None:
    none = stack(
        {"type": "residual", "projection": "none", "layers": [{"type": "dense", "out_features": 3}]}
    )
    assert 'maps (5,) to (3,), but projection = "none" needs the same shape' in problem(none, (5,))
    shrink = stack(
        {"type": "residual", "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": 3}]}
    )
    message = problem(shrink, (2, 8, 8))
    assert "maps (2, 8, 8) to (4, 6, 6)" in message
    assert "not size 8x8 -> 6x6" in message
    flatten = stack({"type": "residual", "layers": [{"type": "flatten"}]})
    assert "cannot change the number of dimensions" in problem(flatten, (2, 3, 3))


def test_residual_build_on_its_own() -> None:
    (residual,) = stack(
        {"type": "residual", "layers": [{"type": "dense", "out_features": 4}, {"type": "tanh"}]}
    )
    block = residual.build((4,))
    x = torch.randn(3, 4)
    expected = torch.tanh(block.layers[0](x)) + x
    assert torch.allclose(block(x), expected)
    (broken,) = stack({"type": "residual", "layers": [{"type": "lstm", "hidden_size": 2}]})
    with pytest.raises(LayerShapeError, match="lstm needs"):
        broken.build((4,))


def test_bad_input_shape_is_a_problem_not_a_crash() -> None:
    found = summarize_stack(stack({"type": "relu"}), (0, 3)).problem
    assert found is not None and found.index == -1 and found.path == "model.input_shape"


def test_duplicate_names_are_refused() -> None:
    layers = stack(
        {"type": "dense", "out_features": 3, "name": "head"},
        {"type": "dense", "out_features": 3, "name": "head"},
    )
    assert "name 'head' is already used by layer 0" in problem(layers, (3,))


# --------------------------------------------------------------------------- LayerStack


def small_model() -> tuple[list[Any], Any]:
    layers = stack(
        {"type": "dense", "out_features": 6, "name": "encoder"},
        {"type": "relu"},
        {"type": "batchnorm"},
        {"type": "dense", "out_features": 2},
    )
    return layers, build_stack(layers, (3,))


def test_labels_and_layer_parameters() -> None:
    _, model = small_model()
    assert model.labels == ["encoder", "1_relu", "2_batchnorm", "3_dense"]
    groups = model.layer_parameters()
    assert [label for label, _ in groups] == ["encoder", "2_batchnorm", "3_dense"]
    assert [sum(p.numel() for p in params) for _, params in groups] == [24, 12, 14]
    assert set(dict(model.named_parameters())) == {
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "layers.3.weight",
        "layers.3.bias",
    }


def test_freeze_by_name_index_and_negative_index() -> None:
    _, model = small_model()
    assert model.freeze(["encoder", -1, 3]) == ["encoder", "3_dense"]
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"}
    model(torch.randn(8, 3)).sum().backward()
    assert model.layers[0].weight.grad is None and model.layers[3].weight.grad is None
    assert model.layers[2].weight.grad is not None


@pytest.mark.parametrize(
    ("selector", "words"),
    [
        ("decoder", "no layer named 'decoder'; the layers are: encoder, 1_relu, 2_batchnorm"),
        (4, "no layer 4: the stack has 4 layers (indices 0..3)"),
        (-5, "no layer -5"),
        (1.5, "must be an index or a name"),
    ],
)
def test_freeze_unknown_selector_changes_nothing(selector: Any, words: str) -> None:
    _, model = small_model()
    with pytest.raises(LayerSelectorError) as caught:
        model.freeze(["encoder", selector])
    assert words in str(caught.value)
    assert all(p.requires_grad for p in model.parameters())


def test_summary_counts_frozen_layers_and_reports_unknown_selectors() -> None:
    layers, _ = small_model()
    summary = summarize_stack(layers, (3,), freeze=["encoder", 2])
    assert (summary.total_params, summary.trainable_params) == (50, 14)
    assert summary.non_trainable_params == 36
    bad = summarize_stack(layers, (3,), freeze=["decoder"]).problem
    assert bad is not None and bad.path == "model.freeze" and "decoder" in bad.message


# --------------------------------------------------------------------------- behaviour


def test_causal_attention_does_not_look_ahead() -> None:
    for config in (
        {"type": "self_attention", "num_heads": 2, "causal": True},
        {"type": "transformer_encoder", "num_heads": 2, "causal": True, "dropout": 0.0},
    ):
        model = build_stack(stack(config), (5, 8)).eval()
        x = torch.randn(1, 5, 8)
        changed = x.clone()
        changed[:, 3:] = torch.randn(1, 2, 8)
        with torch.no_grad():
            a, b = model(x), model(changed)
        assert torch.allclose(a[:, :3], b[:, :3], atol=1e-5), config["type"]
        assert not torch.allclose(a[:, 3:], b[:, 3:])


def test_recurrent_last_is_the_final_hidden_state_of_both_directions() -> None:
    model = build_stack(stack({"type": "gru", "hidden_size": 3, "bidirectional": True}), (4, 2))
    gru: Any = model.layers[0].rnn
    x = torch.randn(2, 4, 2)
    with torch.no_grad():
        sequence, hidden = gru(x)
        out = model(x)
    assert torch.allclose(out[:, :3], sequence[:, -1, :3])
    assert torch.allclose(out[:, 3:], sequence[:, 0, 3:])
    assert torch.allclose(out, torch.cat([hidden[0], hidden[1]], dim=-1))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("mean", lambda x: x.mean(1)),
        ("max", lambda x: x.amax(1)),
        ("first", lambda x: x[:, 0]),
        ("last", lambda x: x[:, -1]),
    ],
)
def test_sequence_pool_modes(mode: str, expected: Any) -> None:
    model = build_stack(stack({"type": "sequence_pool", "mode": mode}), (5, 3))
    x = torch.randn(2, 5, 3)
    assert torch.equal(model(x), expected(x))


def test_positional_encodings() -> None:
    fixed = build_stack(stack({"type": "positional_encoding", "max_len": 10}), (4, 6))
    assert dict(fixed.named_parameters()) == {}
    assert "layers.0.table" not in fixed.state_dict()
    x = torch.zeros(1, 4, 6)
    table = fixed(x)[0]
    assert torch.allclose(table[:, 0], torch.sin(torch.arange(4.0)))
    assert torch.allclose(table[:, 1], torch.cos(torch.arange(4.0)))
    learned = build_stack(
        stack({"type": "positional_encoding", "kind": "learned", "max_len": 10}), (4, 5)
    )
    assert learned.state_dict()["layers.0.table"].shape == (10, 5)


def test_softmax_dim_counts_from_the_sample() -> None:
    model = build_stack(stack({"type": "softmax", "dim": 0}), (3, 4))
    out = model(torch.randn(2, 3, 4))
    assert torch.allclose(out.sum(dim=1), torch.ones(2, 4))


def test_embedding_padding_row_is_zero() -> None:
    config = {"type": "embedding", "num_embeddings": 6, "embedding_dim": 3, "padding_idx": 0}
    model = build_stack(stack(config), (4,), input_dtype="int64")
    out = model(torch.tensor([[0, 1, 2, 0]]))
    assert torch.equal(out[0, 0], torch.zeros(3))


def test_summary_text_shows_non_default_fields() -> None:
    (conv,) = stack({"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "same"})
    assert conv.summary() == "out_channels=4, kernel_size=3, padding=same"
    (residual,) = stack(
        {"type": "residual", "layers": [{"type": "dense", "out_features": 2}, {"type": "relu"}]}
    )
    assert residual.summary() == "[dense, relu]"


# --------------------------------------------------------------------------- hygiene, docs


def test_importing_layers_and_validating_does_not_import_torch() -> None:
    # Also imports the registry before the schema: the two import each other.
    code = (
        "import sys\n"
        "import dltui.layers.registry as registry\n"
        "import dltui.layers.stack\n"
        "from dltui.spec.model import SequentialModel\n"
        "SequentialModel.model_validate({'layers': [{'type': 'residual', 'layers': "
        "[{'type': 'dense', 'out_features': 2}]}]})\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
        "print(len(registry.layer_kinds()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) == len(layer_kinds())


def test_summaries_never_compute_on_the_meta_device() -> None:
    # The first arithmetic on a meta tensor imports sympy (seconds); the builder's
    # first summary must not pay it, so every built-in kind declares its shape.
    from test_layer_shapes import EXAMPLES

    code = (
        "import sys, json, time, torch\n"
        "from dltui.layers.stack import summarize_stack\n"
        "from dltui.spec.model import SequentialModel\n"
        "assert 'sympy' not in sys.modules\n"
        f"examples = json.loads({json.dumps(EXAMPLES)!r})\n"
        "for config, shape, dtype in examples:\n"
        "    layers = SequentialModel.model_validate({'layers': [config]}).layers\n"
        "    summary = summarize_stack(layers, tuple(shape), input_dtype=dtype)\n"
        "    assert summary.problem is None, summary.problem\n"
        "    assert 'sympy' not in sys.modules, config\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_built_models_are_initialised_for_real() -> None:
    layers = stack(
        {"type": "embedding", "num_embeddings": 30, "embedding_dim": 8},
        {"type": "positional_encoding", "kind": "learned"},
        {"type": "dense", "out_features": 8},
    )
    model = build_stack(layers, (5,), input_dtype="int64")
    for name, param in model.named_parameters():
        assert param.device.type == "cpu"
        if name.endswith("weight") or name.endswith("table"):
            assert float(param.detach().std()) > 1e-3, name


def test_layer_stack_is_reachable_from_stack_module() -> None:
    from dltui.layers import stack as stack_module
    from dltui.layers.modules import LayerStack

    assert stack_module.LayerStack is LayerStack


def test_docs_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_layers", ROOT / "docs" / "gen_layers.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    text = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    assert text == generator.render(), "docs/layers.md is stale: run python docs/gen_layers.py"
    for kind in layer_kinds():
        assert f"| `{kind}` |" in text


def test_registry_rejects_bad_kinds() -> None:
    from dltui.layers import register

    class NoLiteral(Layer):
        """A kind whose type is not a single literal."""

        type: str = "x"

    with pytest.raises(TypeError, match="must be Literal"):
        register(NoLiteral)

    class Twice(Layer):
        """A second dense."""

        type: typing.Literal["dense"] = "dense"

    with pytest.raises(ValueError, match="registered twice"):
        register(Twice)
