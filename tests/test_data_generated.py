"""Generated and shipped data sets: shapes, dtypes, determinism, splits, normalisation."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from dltui.data import DataError, DataInfo, describe, load_data
from dltui.data.splitting import split_counts, stratified_order
from dltui.spec.data import DataSpec, Split

_ADAPTER: TypeAdapter[Any] = TypeAdapter(DataSpec)


def spec(**fields: Any) -> Any:
    """A validated ``[data]`` table."""
    return _ADAPTER.validate_python(fields)


PLAYGROUND = ["spirals", "circles", "xor", "gaussian", "moons"]


@pytest.mark.parametrize("source", PLAYGROUND)
def test_playground_classification_shapes_and_balance(source: str) -> None:
    data = spec(source=source, samples=300, split={"train": 0.6, "val": 0.2, "test": 0.2})
    splits = load_data(data, seed=3)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (180, 60, 60)
    for part in (splits.train, splits.val, splits.test):
        assert part.x.dtype == torch.float32 and part.x.shape[1:] == (2,)
        assert part.y.dtype == torch.int64 and part.y.dim() == 1
    info = describe(data)
    assert info == splits.info
    assert info.task == "classification" and info.num_classes == 2 and info.samples == 300
    counts = torch.bincount(torch.cat([splits.train.y, splits.val.y, splits.test.y]))
    assert counts.sum() == 300 and counts.min() >= 100  # both classes well represented


def test_spirals_and_gaussian_take_a_class_count() -> None:
    for source in ("spirals", "gaussian"):
        splits = load_data(spec(source=source, classes=5, samples=500), seed=0)
        assert splits.info.num_classes == 5 and len(splits.info.class_names or []) == 5
        labels = torch.cat([splits.train.y, splits.val.y])
        assert torch.bincount(labels).tolist() == [100] * 5


def test_playground_is_reproducible_from_the_seed_and_differs_across_seeds() -> None:
    data = spec(source="moons", samples=200, noise=0.2)
    a, b, c = load_data(data, seed=7), load_data(data, seed=7), load_data(data, seed=8)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.val.y, b.val.y)
    assert not torch.equal(a.train.x, c.train.x)


def test_data_seed_overrides_the_experiment_seed() -> None:
    pinned = spec(source="circles", samples=100, seed=42)
    assert torch.equal(load_data(pinned, seed=1).train.x, load_data(pinned, seed=2).train.x)


def test_changing_the_split_does_not_change_the_generated_points() -> None:
    a = load_data(spec(source="xor", samples=200, split={"train": 1.0, "val": 0.0}), seed=0)
    b = load_data(spec(source="xor", samples=200, split={"train": 0.5, "val": 0.5}), seed=0)
    whole_a = {tuple(p) for p in a.train.x.tolist()}
    whole_b = {tuple(p) for p in torch.cat([b.train.x, b.val.x]).tolist()}
    assert whole_a == whole_b


def test_xor_labels_follow_the_quadrant_sign_without_noise() -> None:
    splits = load_data(spec(source="xor", samples=400, noise=0.0), seed=0)
    x, y = splits.train.x, splits.train.y
    assert torch.equal(y, (x[:, 0] * x[:, 1] > 0).long())


def test_circles_inner_ring_is_inside_outer_ring_without_noise() -> None:
    splits = load_data(spec(source="circles", samples=400, noise=0.0), seed=0)
    radius = splits.train.x.norm(dim=1)
    assert radius[splits.train.y == 0].max() < radius[splits.train.y == 1].min()


def test_plane_is_regression_on_a_linear_function() -> None:
    splits = load_data(spec(source="plane", samples=400, noise=0.0), seed=0)
    assert splits.info.task == "regression" and splits.info.target_shape == (1,)
    x, y = splits.train.x.double(), splits.train.y.double()
    assert y.shape == (320, 1) and splits.train.y.dtype == torch.float32
    design = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y).solution.flatten()
    assert torch.allclose(solution, torch.tensor([0.6, -0.8, 0.1], dtype=torch.float64), atol=1e-5)


def test_standard_normalisation_uses_training_statistics_only() -> None:
    data = spec(source="gaussian", samples=400, normalize="standard")
    raw = load_data(spec(source="gaussian", samples=400), seed=0)
    scaled = load_data(data, seed=0)
    mean, std = raw.train.x.double().mean(0), raw.train.x.double().std(0, unbiased=False)
    assert torch.allclose(scaled.train.x.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(scaled.train.x.std(0, unbiased=False), torch.ones(2), atol=1e-4)
    expected_val = ((raw.val.x.double() - mean) / std).float()
    assert torch.allclose(scaled.val.x, expected_val, atol=1e-5)
    assert torch.equal(scaled.train.y, raw.train.y)  # class targets untouched


def test_minmax_maps_the_training_range_to_unit_interval() -> None:
    scaled = load_data(spec(source="spirals", samples=300, normalize="minmax"), seed=0)
    assert torch.allclose(scaled.train.x.min(0).values, torch.zeros(2), atol=1e-6)
    assert torch.allclose(scaled.train.x.max(0).values, torch.ones(2), atol=1e-6)


def test_sine_windows_and_horizon() -> None:
    data = spec(source="sine", samples=100, seq_len=16, horizon=3, noise=0.0)
    splits = load_data(data, seed=0)
    assert splits.train.x.shape == (80, 16, 1) and splits.train.y.shape == (80, 3)
    assert describe(data) == DataInfo((16, 1), (3,), "regression", samples=100)
    # Without noise the amplitude is bounded by the sum of the components' amplitudes.
    assert splits.train.x.abs().max() <= 1.0


def test_gmm2d_points_sit_on_their_modes() -> None:
    data = spec(source="gmm2d", samples=800, modes=4, radius=3.0, std=0.01)
    splits = load_data(data, seed=0)
    assert splits.info.task == "generative" and splits.train.x.shape == (640, 2)
    assert torch.allclose(splits.train.x.norm(dim=1), torch.full((640,), 3.0), atol=0.1)
    angle = torch.atan2(splits.train.x[:, 1], splits.train.x[:, 0])
    mode = torch.round(angle / (torch.pi / 2)).long() % 4
    assert torch.equal(mode, splits.train.y)


def test_chars_language_model_windows_shift_by_one() -> None:
    data = spec(source="chars", seq_len=32, split={"train": 0.8, "val": 0.1, "test": 0.1})
    splits = load_data(data, seed=0)
    info = splits.info
    assert info.task == "language_model" and info.input_dtype == "int64"
    assert info.vocab == sorted(info.vocab or []) and info.num_classes == len(info.vocab or [])
    assert splits.train.x.dtype == torch.int64 and splits.train.x.shape[1:] == (32,)
    assert torch.equal(splits.train.x[:, 1:], splits.train.y[:, :-1])
    text = "".join((info.vocab or [])[i] for i in splits.train.x[0].tolist())
    assert text.startswith("SHAKESPEARE'S SONNETS")
    assert describe(data).samples == len(splits.train) + len(splits.val) + len(splits.test)
    assert len(splits.val) > 0 and len(splits.test) > 0


def test_chars_samples_draws_that_many_windows_reproducibly() -> None:
    data = spec(source="chars", seq_len=16, samples=500)
    a, b = load_data(data, seed=1), load_data(data, seed=1)
    assert len(a.train) + len(a.val) == 500 and describe(data).samples == 500
    assert torch.equal(a.train.x, b.train.x)


def test_unknown_corpus_lists_the_shipped_ones() -> None:
    with pytest.raises(DataError) as err:
        describe(spec(source="chars", corpus="sonets"))
    assert err.value.field == "data.corpus"
    assert "sonnets" in str(err.value) and "did you mean" in str(err.value)


def test_token_inputs_refuse_normalisation_and_noise() -> None:
    with pytest.raises(DataError) as err:
        describe(spec(source="chars", normalize="standard"))
    assert err.value.field == "data.normalize"
    with pytest.raises(DataError) as err:
        describe(spec(source="chars", augment={"noise": 0.1}))
    assert err.value.field == "data.augment.noise"


def test_flips_on_vectors_are_rejected_by_describe() -> None:
    with pytest.raises(DataError) as err:
        describe(spec(source="moons", augment={"flip_horizontal": True}))
    assert err.value.field == "data.augment.flip_horizontal"


def test_digits_images_and_class_filter() -> None:
    pytest.importorskip("sklearn")
    splits = load_data(spec(source="digits"), seed=0)
    assert splits.train.x.shape[1:] == (1, 8, 8) and len(splits.train) + len(splits.val) == 1797
    assert float(splits.train.x.min()) >= 0.0 and float(splits.train.x.max()) == 1.0
    kept = load_data(spec(source="digits", classes=[7, 3], flatten=True), seed=0)
    assert kept.info.class_names == ["7", "3"] and kept.info.num_classes == 2
    assert kept.train.x.shape[1:] == (64,)
    assert set(kept.train.y.tolist()) == {0, 1}
    assert describe(spec(source="digits", classes=[7, 3])).samples == len(kept.train) + len(
        kept.val
    )


def test_digits_classes_must_keep_two() -> None:
    with pytest.raises(DataError) as err:
        describe(spec(source="digits", classes=[4]))
    assert err.value.field == "data.classes"


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from dltui.data import digits

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a),
    )
    monkeypatch.setitem(sys.modules, "sklearn", None)
    digits._labels.cache_clear()
    digits._images.cache_clear()
    try:
        with pytest.raises(DataError, match=r"dltui\[digits\]"):
            describe(spec(source="digits"))
    finally:
        digits._labels.cache_clear()
        digits._images.cache_clear()


def test_a_fraction_too_small_for_the_samples_is_an_error() -> None:
    with pytest.raises(DataError) as err:
        load_data(spec(source="xor", samples=10, split={"train": 0.97, "val": 0.03}), seed=0)
    assert err.value.field == "data.split.val" and "validation set empty" in str(err.value)


def test_split_counts_give_files_priority() -> None:
    split = Split(train=0.6, val=0.2, test=0.2)
    assert split_counts(100, split) == (60, 20, 20)
    assert split_counts(100, split, val_file=True) == (75, 0, 25)
    assert split_counts(100, split, val_file=True, test_file=True) == (100, 0, 0)


def test_stratified_order_keeps_class_proportions_in_every_prefix() -> None:
    labels = np.repeat([0, 1, 2], [500, 300, 200])
    order = stratified_order(labels, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(1000))
    counts = np.bincount(labels[order[:100]], minlength=3)
    assert np.all(np.abs(counts - [50, 30, 20]) <= 1)


def test_importing_the_package_imports_neither_torch_nor_numpy() -> None:
    import subprocess

    code = "import sys, dltui.data; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(1, 5000),
    train=st.integers(1, 100),
    val=st.integers(0, 100),
    test=st.integers(0, 100),
    val_file=st.booleans(),
    test_file=st.booleans(),
)
def test_split_counts_cover_every_sample_or_explain_why_not(
    total: int, train: int, val: int, test: int, val_file: bool, test_file: bool
) -> None:
    whole = train + val + test
    split = Split(train=train / whole, val=val / whole, test=test / whole)
    try:
        counts = split_counts(total, split, val_file=val_file, test_file=test_file)
    except DataError as err:
        assert err.field.startswith("data.split.") and "empty" in str(err)
        return
    assert sum(counts) == total and min(counts) >= 0 and counts[0] > 0
    assert (counts[1] > 0) == (split.val > 0 and not val_file)
    assert (counts[2] > 0) == (split.test > 0 and not test_file)
