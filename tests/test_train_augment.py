"""Paired batch augmentation: one affine per pair for both images, swap per the label rule."""

import numpy as np
import pytest
import torch

from pairzoo.train.augment import PairAugment, to_pair


def _batch(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8))
    y = torch.from_numpy(rng.integers(0, 2, size=n).astype(np.float32))
    digits = torch.from_numpy(rng.integers(0, 10, size=(n, 2)))
    return x, y, digits


def test_to_pair_splits_left_and_right():
    x, _, _ = _batch(4)
    pair = to_pair(x)
    assert pair.shape == (4, 2, 28, 28) and pair.dtype == torch.float32
    assert torch.equal(pair[:, 0], x[:, :, :28].float() / 255)
    assert torch.equal(pair[:, 1], x[:, :, 28:].float() / 255)


@pytest.mark.parametrize(("on_swap", "flips"), [("flip", True), ("keep", False)])
def test_swap_moves_images_digits_and_label_per_rule(on_swap, flips):
    x, y, digits = _batch()
    pair = to_pair(x)
    aug = PairAugment(15, 0.1, (0.9, 1.0), affine=False, swap=True, on_swap=on_swap)
    out, y2, d2, _ = aug(pair, y, digits, torch.Generator().manual_seed(0))
    swapped = (out[:, 0] != pair[:, 0]).flatten(1).any(1)
    assert 0 < swapped.sum() < len(y)
    assert torch.equal(out[swapped], pair[swapped].flip(1))
    assert torch.equal(out[~swapped], pair[~swapped])
    assert torch.equal(d2[swapped], digits[swapped].flip(1))
    expected = torch.where(swapped, 1 - y, y) if flips else y
    assert torch.equal(y2, expected)


def test_rule_without_swap_never_swaps():
    x, y, digits = _batch()
    aug = PairAugment(0, 0, (1.0, 1.0), affine=False, swap=True, on_swap="none")
    out, y2, d2, _ = aug(to_pair(x), y, digits, torch.Generator().manual_seed(0))
    assert torch.equal(out, to_pair(x)) and torch.equal(y2, y) and torch.equal(d2, digits)


def test_affine_is_shared_by_both_images_and_varies_across_pairs():
    x, y, _ = _batch(32)
    x[:, :, 28:] = x[:, :, :28]  # right image = left image
    aug = PairAugment(15, 0.1, (0.8, 1.0), affine=True, swap=False, on_swap="flip")
    out, y2, _, _ = aug(to_pair(x), y, None, torch.Generator().manual_seed(1))
    assert torch.equal(out[:, 0], out[:, 1])
    assert not torch.allclose(out[:, 0], to_pair(x)[:, 0])
    assert torch.equal(y2, y)


def test_identity_settings_leave_images_alone():
    x, y, _ = _batch(8)
    aug = PairAugment(0, 0, (1.0, 1.0), affine=True, swap=False, on_swap="flip")
    out, _, _, _ = aug(to_pair(x), y, None, torch.Generator().manual_seed(0))
    assert torch.allclose(out, to_pair(x), atol=1e-5)


def test_same_generator_seed_same_augmentation():
    x, y, digits = _batch()
    aug = PairAugment(15, 0.1, (0.9, 1.0), affine=True, swap=True, on_swap="flip")
    a = aug(to_pair(x), y, digits, torch.Generator().manual_seed(3))
    b = aug(to_pair(x), y, digits, torch.Generator().manual_seed(3))
    assert all(torch.equal(p, q) for p, q in zip(a[:3], b[:3], strict=True))


@pytest.mark.parametrize(("on_swap", "negates"), [("flip", True), ("keep", False)])
def test_swap_negates_teacher_logits_where_the_label_flips(on_swap, negates):
    x, y, digits = _batch()
    teacher = torch.linspace(-3, 3, len(y))
    aug = PairAugment(0, 0, (1.0, 1.0), affine=False, swap=True, on_swap=on_swap)
    out, _, _, t2 = aug(to_pair(x), y, digits, torch.Generator().manual_seed(0), teacher)
    swapped = (out[:, 0] != to_pair(x)[:, 0]).flatten(1).any(1)
    assert 0 < swapped.sum() < len(y)
    assert torch.equal(t2, torch.where(swapped, -teacher, teacher) if negates else teacher)
