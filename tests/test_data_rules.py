"""Label rules: the original's `greater` and `same`, reached through the plugin manager."""

from __future__ import annotations

import numpy as np
import pytest
from pairzoo_plugins.label_rules import GREATER, SAME

from pairzoo.data.rules import LabelRule
from pairzoo.plugins import get_label_rule


def test_rules_are_found_by_name():
    assert get_label_rule("greater") is GREATER
    assert get_label_rule("same") is SAME


def test_greater_matches_the_original_task():
    rng = np.random.default_rng(0)
    left, right = GREATER.sample(rng, 20_000, 0.8)
    y = GREATER.label(left, right)
    assert y.dtype == np.int64 and y.sum() == 10_000  # balanced exactly
    assert np.array_equal(y, (left > right).astype(np.int64))
    assert (left != right).all()
    assert abs(np.mean(np.abs(left - right) == 1) - 0.8) < 0.01
    assert set(np.unique(np.concatenate([left, right]))) == set(range(10))
    assert GREATER.on_swap == "flip"
    assert np.array_equal(GREATER.label(right, left), 1 - y)


@pytest.mark.parametrize("adjacent", [0.0, 1.0])
def test_adjacent_extremes(adjacent):
    left, right = GREATER.sample(np.random.default_rng(1), 2000, adjacent)
    assert np.all((np.abs(left - right) == 1) == bool(adjacent))


def test_same_is_balanced_and_symmetric():
    left, right = SAME.sample(np.random.default_rng(0), 10_001, 0.8)
    y = SAME.label(left, right)
    assert y.sum() == 5000
    assert np.array_equal(y, (left == right).astype(np.int64))
    assert SAME.on_swap == "keep"
    assert np.array_equal(SAME.label(right, left), y)


def test_sampling_is_seeded():
    a = GREATER.sample(np.random.default_rng(5), 100, 0.8)
    b = GREATER.sample(np.random.default_rng(5), 100, 0.8)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_rule_validates_on_swap_and_is_callable():
    with pytest.raises(ValueError, match="on_swap 'twist'"):
        LabelRule("x", GREATER.label, GREATER.sample, "twist")
    assert GREATER(np.array([3]), np.array([2])).tolist() == [1]
