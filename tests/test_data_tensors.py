"""Batches as whole arrays: pair splitting and index batches."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.data.tensors import batch_torch, iter_batches, split_pairs_np, split_pairs_torch


def sample_pairs(n=5):
    return np.random.default_rng(0).integers(0, 256, size=(n, 28, 56), dtype=np.uint8)


def test_split_pairs_np():
    x = sample_pairs()
    xa, xb = split_pairs_np(x)
    assert xa.shape == xb.shape == (5, 1, 28, 28) and xa.dtype == np.float32
    assert xa.flags.c_contiguous and xb.flags.c_contiguous
    assert np.allclose(xa[:, 0] * 255, x[:, :, :28]) and np.allclose(xb[:, 0] * 255, x[:, :, 28:])
    assert xa.max() <= 1.0


def test_split_pairs_torch_matches_numpy():
    torch = pytest.importorskip("torch")
    x = sample_pairs()
    ta, tb = split_pairs_torch(torch.from_numpy(x))
    na, nb = split_pairs_np(x)
    assert ta.dtype == torch.float32 and ta.shape == (5, 1, 28, 28)
    assert np.array_equal(ta.numpy(), na) and np.array_equal(tb.numpy(), nb)
    ba, bb = batch_torch(x, np.array([4, 0]))
    assert np.array_equal(ba.numpy(), na[[4, 0]]) and np.array_equal(bb.numpy(), nb[[4, 0]])


def test_split_pairs_refuses_wrong_input():
    with pytest.raises(ValueError, match=r"expected uint8 \(N, 28, 56\)"):
        split_pairs_np(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="float32"):
        split_pairs_np(np.zeros((2, 28, 56), np.float32))


def test_iter_batches_in_order_and_shuffled():
    batches = list(iter_batches(10, 4))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(b) for b in iter_batches(10, 4, drop_last=True)] == [4, 4]
    shuffled = np.concatenate(list(iter_batches(10, 3, np.random.default_rng(1))))
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    again = np.concatenate(list(iter_batches(10, 3, np.random.default_rng(1))))
    assert np.array_equal(shuffled, again)
    assert list(iter_batches(0, 4)) == []
    with pytest.raises(ValueError, match="batch_size 0"):
        list(iter_batches(10, 0))
