"""augment_batch: shapes kept, flips are flips, shifts move pixels, seeded = repeatable."""

from __future__ import annotations

import pytest
import torch

from dltui.data import DataError, augment_batch
from dltui.spec.data import Augment


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def batch(n: int = 64) -> torch.Tensor:
    return torch.arange(n * 2 * 5 * 7, dtype=torch.float32).reshape(n, 2, 5, 7)


def test_horizontal_flip_flips_some_samples_and_leaves_the_others() -> None:
    x = batch()
    out = augment_batch(x, Augment(flip_horizontal=True), gen())
    assert out.shape == x.shape
    flipped = [torch.equal(o, s.flip(-1)) for o, s in zip(out, x, strict=True)]
    kept = [torch.equal(o, s) for o, s in zip(out, x, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54  # about half of 64


def test_vertical_flip_flips_rows() -> None:
    x = batch()
    out = augment_batch(x, Augment(flip_vertical=True), gen())
    flipped = [torch.equal(o, s.flip(-2)) for o, s in zip(out, x, strict=True)]
    assert all(flipped[i] or torch.equal(out[i], x[i]) for i in range(len(x)))
    assert 10 < sum(flipped) < 54


def test_shift_moves_each_image_by_at_most_shift_and_fills_zeros() -> None:
    x = batch(32) + 1  # no zero pixels, so the filled border is recognisable
    out = augment_batch(x, Augment(shift=2), gen())
    assert out.shape == x.shape
    moved = 0
    for o, s in zip(out, x, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(o, _shifted(s, dy, dx))
        ]
        assert matches, "every output is its input moved by at most 2 px"
        moved += matches[0] != (0, 0)
    assert moved > 16


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` moved down ``dy`` and right ``dx``, zero where nothing came in."""
    out = torch.zeros_like(image)
    h, w = image.shape[-2:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_noise_has_the_asked_std_and_works_on_vectors() -> None:
    x = torch.zeros(2000, 8)
    out = augment_batch(x, Augment(noise=0.5), gen())
    assert out.shape == x.shape
    assert abs(float(out.std()) - 0.5) < 0.02 and abs(float(out.mean())) < 0.02
    assert torch.count_nonzero(x) == 0  # the input is not modified


def test_same_seed_same_result_other_seed_other_result() -> None:
    x = batch()
    augment = Augment(flip_horizontal=True, flip_vertical=True, shift=1, noise=0.1)
    a = augment_batch(x, augment, gen(5))
    b = augment_batch(x, augment, gen(5))
    c = augment_batch(x, augment, gen(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_nothing_asked_returns_an_equal_copy() -> None:
    x = batch(4)
    out = augment_batch(x, Augment(), gen())
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("name", ["flip_horizontal", "flip_vertical", "shift"])
def test_image_only_options_on_vectors_name_the_field(name: str) -> None:
    value = 1 if name == "shift" else True
    with pytest.raises(DataError) as err:
        augment_batch(torch.zeros(4, 3), Augment(**{name: value}), gen())
    assert err.value.field == f"data.augment.{name}"


def test_noise_on_token_ids_is_refused() -> None:
    with pytest.raises(DataError) as err:
        augment_batch(torch.zeros(4, 3, dtype=torch.int64), Augment(noise=0.1), gen())
    assert err.value.field == "data.augment.noise"
