"""Shape inference and parameter counts agree with the real model, for every kind."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dltui.layers import layer_kinds
from dltui.layers.stack import StackError, build_stack, format_summary, summarize_stack
from dltui.spec.model import SequentialModel

Config = dict[str, Any]


def stack(*layers: Config) -> list[Any]:
    """Validated layers, exactly as an experiment file would give them."""
    return list(SequentialModel.model_validate({"layers": list(layers)}).layers)


# One or more (layer config, per-sample input shape, input dtype) per kind.
EXAMPLES: list[tuple[Config, tuple[int, ...], str]] = [
    ({"type": "dense", "out_features": 5}, (7,), "float32"),
    ({"type": "dense", "out_features": 1, "bias": False}, (6, 7), "float32"),
    ({"type": "flatten"}, (3, 4, 5), "float32"),
    ({"type": "reshape", "shape": [2, -1]}, (12,), "float32"),
    ({"type": "reshape", "shape": [1, 3, 4]}, (12,), "float32"),
    ({"type": "permute", "dims": [1, 0]}, (3, 8), "float32"),
    ({"type": "permute", "dims": [2, 0, 1]}, (3, 4, 5), "float32"),
    ({"type": "dropout", "p": 0.3}, (9,), "float32"),
    ({"type": "dropout2d", "p": 0.2}, (3, 4, 4), "float32"),
    ({"type": "embedding", "num_embeddings": 20, "embedding_dim": 6}, (9,), "int64"),
    (
        {"type": "embedding", "num_embeddings": 20, "embedding_dim": 6, "padding_idx": 0},
        (9,),
        "int64",
    ),
    ({"type": "identity"}, (3, 5), "float32"),
    ({"type": "relu"}, (3, 5), "float32"),
    ({"type": "leaky_relu", "negative_slope": 0.2}, (5,), "float32"),
    ({"type": "elu", "alpha": 0.5}, (5,), "float32"),
    ({"type": "selu"}, (5,), "float32"),
    ({"type": "gelu", "approximate": "tanh"}, (5,), "float32"),
    ({"type": "silu"}, (5,), "float32"),
    ({"type": "mish"}, (5,), "float32"),
    ({"type": "softplus", "beta": 2.0}, (5,), "float32"),
    ({"type": "sigmoid"}, (5,), "float32"),
    ({"type": "tanh"}, (5,), "float32"),
    ({"type": "hardtanh", "min_val": -2, "max_val": 2}, (5,), "float32"),
    ({"type": "softmax"}, (4, 5), "float32"),
    ({"type": "softmax", "dim": 0}, (4, 5), "float32"),
    ({"type": "log_softmax"}, (5,), "float32"),
    ({"type": "prelu"}, (3, 4, 4), "float32"),
    ({"type": "prelu", "num_parameters": 3}, (3, 4, 4), "float32"),
    ({"type": "conv1d", "out_channels": 4, "kernel_size": 3}, (2, 10), "float32"),
    (
        {"type": "conv1d", "out_channels": 4, "kernel_size": 5, "padding": "same"},
        (2, 10),
        "float32",
    ),
    (
        {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1},
        (3, 9, 9),
        "float32",
    ),
    (
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "groups": 2, "dilation": 2},
        (4, 9, 9),
        "float32",
    ),
    (
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "valid"},
        (1, 5, 5),
        "float32",
    ),
    (
        {
            "type": "conv_transpose2d",
            "out_channels": 3,
            "kernel_size": 4,
            "stride": 2,
            "padding": 1,
        },
        (8, 7, 7),
        "float32",
    ),
    (
        {
            "type": "conv_transpose2d",
            "out_channels": 2,
            "kernel_size": 3,
            "stride": 2,
            "output_padding": 1,
        },
        (4, 3, 3),
        "float32",
    ),
    ({"type": "maxpool1d", "kernel_size": 2}, (3, 9), "float32"),
    ({"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1}, (3, 9, 9), "float32"),
    ({"type": "avgpool1d", "kernel_size": 3, "stride": 1}, (3, 9), "float32"),
    ({"type": "avgpool2d"}, (3, 8, 8), "float32"),
    ({"type": "adaptive_avgpool2d", "output_size": 2}, (3, 7, 7), "float32"),
    ({"type": "adaptive_maxpool2d", "output_size": 3}, (3, 7, 7), "float32"),
    ({"type": "global_avgpool"}, (3, 5, 5), "float32"),
    ({"type": "global_avgpool"}, (3, 5), "float32"),
    ({"type": "sequence_pool", "mode": "max"}, (6, 4), "float32"),
    ({"type": "batchnorm"}, (5,), "float32"),
    ({"type": "batchnorm", "momentum": 0.01}, (3, 6), "float32"),
    ({"type": "batchnorm", "affine": False}, (3, 4, 4), "float32"),
    ({"type": "layernorm"}, (6, 4), "float32"),
    ({"type": "groupnorm", "num_groups": 2}, (4, 3, 3), "float32"),
    ({"type": "rnn", "hidden_size": 5, "nonlinearity": "relu"}, (6, 3), "float32"),
    ({"type": "rnn", "hidden_size": 5, "output": "sequence"}, (6, 3), "float32"),
    (
        {"type": "lstm", "hidden_size": 5, "num_layers": 2, "dropout": 0.1, "bidirectional": True},
        (6, 3),
        "float32",
    ),
    (
        {"type": "lstm", "hidden_size": 4, "output": "sequence", "bidirectional": True},
        (6, 3),
        "float32",
    ),
    ({"type": "gru", "hidden_size": 5}, (6, 3), "float32"),
    ({"type": "positional_encoding"}, (6, 8), "float32"),
    ({"type": "positional_encoding", "kind": "learned", "max_len": 16}, (6, 7), "float32"),
    ({"type": "self_attention", "num_heads": 2}, (6, 8), "float32"),
    ({"type": "self_attention", "num_heads": 4, "causal": True, "bias": False}, (6, 8), "float32"),
    ({"type": "transformer_encoder", "num_heads": 2}, (6, 8), "float32"),
    (
        {
            "type": "transformer_encoder",
            "num_heads": 2,
            "num_layers": 2,
            "dim_feedforward": 16,
            "activation": "gelu",
            "norm_first": True,
            "causal": True,
        },
        (6, 8),
        "float32",
    ),
    ({"type": "residual", "layers": [{"type": "dense", "out_features": 5}]}, (5,), "float32"),
    ({"type": "residual", "layers": [{"type": "dense", "out_features": 3}]}, (5,), "float32"),
    (
        {"type": "residual", "layers": [{"type": "conv2d", "out_channels": 8, "kernel_size": 1}]},
        (4, 6, 6),
        "float32",
    ),
    (
        {"type": "residual", "layers": [{"type": "dense", "out_features": 6}]},
        (5, 4),
        "float32",
    ),
    (
        {
            "type": "residual",
            "layers": [{"type": "conv1d", "out_channels": 6, "kernel_size": 3, "padding": 1}],
        },
        (4, 9),
        "float32",
    ),
]


def check_agrees(layers: list[Any], input_shape: tuple[int, ...], dtype: str = "float32") -> None:
    """Summary shapes and counts equal the real model's, layer by layer."""
    summary = summarize_stack(layers, input_shape, input_dtype=dtype)
    assert summary.problem is None, summary.problem
    model = build_stack(layers, input_shape, input_dtype=dtype)
    model.eval()
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert summary.trainable_params == summary.total_params
    assert [row.label for row in summary.rows] == model.labels
    if dtype == "int64":
        x = torch.randint(0, 5, (3, *input_shape))
    else:
        x = torch.randn(3, *input_shape, dtype=getattr(torch, dtype))
    with torch.no_grad():
        for row, module in zip(summary.rows, model.layers, strict=True):
            assert tuple(x.shape[1:]) == row.in_shape
            x = module(x)
            assert tuple(x.shape[1:]) == row.out_shape, row
            assert row.params == sum(p.numel() for p in module.parameters()), row
    assert tuple(x.shape[1:]) == summary.output_shape


def test_every_kind_has_an_example() -> None:
    covered = {config["type"] for config, _, _ in EXAMPLES}
    assert covered == set(layer_kinds())


@pytest.mark.parametrize(
    ("config", "input_shape", "dtype"),
    EXAMPLES,
    ids=[f"{c['type']}-{i}" for i, (c, _, _) in enumerate(EXAMPLES)],
)
def test_kind_summary_matches_real_model(
    config: Config, input_shape: tuple[int, ...], dtype: str
) -> None:
    check_agrees(stack(config), input_shape, dtype)


def test_summary_numbers_are_the_known_ones() -> None:
    # Hand-computed, so a shared bug in both summary and build cannot hide.
    layers = stack(
        {"type": "conv2d", "out_channels": 8, "kernel_size": 3},
        {"type": "maxpool2d"},
        {"type": "flatten"},
        {"type": "dense", "out_features": 10},
    )
    summary = summarize_stack(layers, (1, 28, 28))
    assert [row.out_shape for row in summary.rows] == [(8, 26, 26), (8, 13, 13), (1352,), (10,)]
    assert [row.params for row in summary.rows] == [80, 0, 0, 13530]
    assert summary.param_bytes == 4 * (80 + 13530)


def test_perceptron() -> None:
    layers = stack({"type": "dense", "out_features": 1}, {"type": "sigmoid"})
    summary = summarize_stack(layers, (2,))
    assert summary.output_shape == (1,)
    assert summary.total_params == 3
    model = build_stack(layers, (2,))
    out = model(torch.randn(4, 2))
    assert out.shape == (4, 1) and bool(((out > 0) & (out < 1)).all())


def test_cnn() -> None:
    check_agrees(
        stack(
            {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": "same"},
            {"type": "batchnorm"},
            {"type": "relu"},
            {"type": "maxpool2d"},
            {"type": "conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1},
            {"type": "groupnorm", "num_groups": 4},
            {"type": "gelu"},
            {"type": "dropout2d", "p": 0.1},
            {"type": "adaptive_avgpool2d", "output_size": 2},
            {"type": "flatten"},
            {"type": "dense", "out_features": 64},
            {"type": "dropout", "p": 0.5},
            {"type": "dense", "out_features": 10},
            {"type": "log_softmax"},
        ),
        (3, 16, 16),
    )


def test_lstm_text_classifier() -> None:
    check_agrees(
        stack(
            {"type": "embedding", "num_embeddings": 50, "embedding_dim": 8},
            {
                "type": "lstm",
                "hidden_size": 16,
                "num_layers": 2,
                "dropout": 0.2,
                "output": "sequence",
            },
            {"type": "gru", "hidden_size": 8, "bidirectional": True},
            {"type": "dense", "out_features": 3},
        ),
        (12,),
        "int64",
    )


def test_transformer_language_model() -> None:
    check_agrees(
        stack(
            {"type": "embedding", "num_embeddings": 40, "embedding_dim": 16},
            {"type": "positional_encoding", "max_len": 32},
            {"type": "transformer_encoder", "num_heads": 4, "num_layers": 2, "causal": True},
            {"type": "layernorm"},
            {"type": "dense", "out_features": 40},
        ),
        (10,),
        "int64",
    )


def test_conv1d_over_a_sequence() -> None:
    check_agrees(
        stack(
            {"type": "permute", "dims": [1, 0]},
            {"type": "conv1d", "out_channels": 6, "kernel_size": 3},
            {"type": "maxpool1d"},
            {"type": "permute", "dims": [1, 0]},
            {"type": "sequence_pool", "mode": "last"},
        ),
        (12, 4),
    )


def test_residual_cnn_with_downsampling_projection() -> None:
    block = {
        "type": "residual",
        "layers": [
            {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1},
            {"type": "batchnorm"},
            {"type": "relu"},
            {
                "type": "residual",
                "layers": [
                    {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": "same"},
                    {"type": "relu"},
                ],
            },
        ],
    }
    layers = stack(
        {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        block,
        {"type": "global_avgpool"},
        {"type": "dense", "out_features": 10},
    )
    check_agrees(layers, (3, 15, 15))
    summary = summarize_stack(layers, (3, 15, 15))
    residual = summary.rows[1]
    assert residual.out_shape == (16, 8, 8)
    assert [child.type for child in residual.children] == [
        "conv2d",
        "batchnorm",
        "relu",
        "residual",
    ]
    # The 1x1 stride-2 projection: 8*16 weights + 16 biases on top of the sub-stack.
    assert residual.params == sum(c.params for c in residual.children) + 8 * 16 + 16
    model = build_stack(layers, (3, 15, 15))
    names = dict(model.named_parameters())
    assert "layers.1.projection.weight" in names
    assert "layers.1.layers.3.layers.0.weight" in names


def test_gan_generator() -> None:
    check_agrees(
        stack(
            {"type": "dense", "out_features": 32 * 4 * 4},
            {"type": "reshape", "shape": [32, 4, 4]},
            {"type": "batchnorm"},
            {"type": "leaky_relu", "negative_slope": 0.2},
            {
                "type": "conv_transpose2d",
                "out_channels": 16,
                "kernel_size": 4,
                "stride": 2,
                "padding": 1,
            },
            {"type": "batchnorm"},
            {"type": "relu"},
            {
                "type": "conv_transpose2d",
                "out_channels": 1,
                "kernel_size": 4,
                "stride": 2,
                "padding": 1,
            },
            {"type": "tanh"},
        ),
        (8,),
    )
    summary = summarize_stack(stack({"type": "dense", "out_features": 512}), (8,))
    assert summary.output_shape == (512,)


def test_unknown_input_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="input_dtype must be one of float32, int64"):
        summarize_stack(stack({"type": "dense", "out_features": 2}), (3,), input_dtype="float64")


def test_build_raises_stack_error_with_the_problem() -> None:
    layers = stack(
        {"type": "dense", "out_features": 4},
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3},
    )
    with pytest.raises(StackError) as caught:
        build_stack(layers, (10,))
    assert caught.value.problem.index == 1
    assert caught.value.problem.path == "model.layers[1]"
    assert "conv2d needs (C, H, W) input, got (4,)" in str(caught.value)


def test_format_summary_lists_rows_totals_and_problem() -> None:
    layers = stack(
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "name": "stem"},
        {"type": "flatten"},
        {"type": "dense", "out_features": 2},
    )
    text = format_summary(summarize_stack(layers, (1, 5, 5), freeze=["stem"]), title="tiny")
    assert text.splitlines()[0] == "tiny"
    assert "stem" in text and "(4, 3, 3)" in text and "(36,)" in text
    assert "Total params: 114" in text
    assert "Trainable params: 74" in text
    assert "Non-trainable params: 40" in text
    assert "Parameter memory: 0.00 MB" in text
    bad = format_summary(summarize_stack(layers, (1, 2, 2)))
    assert "Problem at model.layers[0]: conv2d window of 3" in bad


def real_output(layers: list[Any], input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape a plain torch forward gives, or None when torch refuses."""
    modules = []
    x = torch.randn(2, *input_shape)
    try:
        for layer in layers:
            module = layer.build(tuple(x.shape[1:]))
            modules.append(module)
            x = module(x)
    except (RuntimeError, ValueError):
        return None
    return tuple(x.shape[1:]) if x.numel() else None


windows = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["conv2d", "maxpool2d", "avgpool2d", "conv_transpose2d"]),
        "kernel_size": st.integers(1, 6),
        "stride": st.integers(1, 3),
        "padding": st.integers(0, 3),
    }
)


@settings(max_examples=60, deadline=None)
@given(window=windows, size=st.integers(1, 9), channels=st.integers(1, 3))
def test_windowed_layers_agree_with_torch(window: Config, size: int, channels: int) -> None:
    config = dict(window)
    if config["type"] in ("conv2d", "conv_transpose2d"):
        config["out_channels"] = 2
    try:
        layers = stack(config)
    except ValidationError:
        return  # refused by the schema (e.g. pooling padding over half the kernel)
    summary = summarize_stack(layers, (channels, size, size))
    expected = real_output(layers, (channels, size, size))
    if summary.problem is None:
        assert summary.output_shape == expected
    else:
        assert expected is None, summary.problem
