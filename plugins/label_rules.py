"""Builtin label rules: the original task's `greater` and the `same`-digit variant."""

import numpy as np

from pairzoo.data.rules import (
    DEFAULT_RULE,
    LabelRule,
    balanced_labels,
    different_prior,
    sample_different,
)
from pairzoo.hookspecs import hookimpl


def _greater_label(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (np.asarray(left) > np.asarray(right)).astype(np.int64)


def _greater_sample(
    rng: np.random.Generator, n: int, adjacent: float
) -> tuple[np.ndarray, np.ndarray]:
    low, high = sample_different(rng, n, adjacent)
    y = balanced_labels(rng, n).astype(bool)
    return np.where(y, high, low), np.where(y, low, high)


def _same_prior(adjacent: float) -> np.ndarray:
    # Half the pairs are one digit twice (uniform), half two different digits in either order.
    return 0.5 * np.eye(10) / 10 + 0.5 * different_prior(adjacent)


def _same_label(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (np.asarray(left) == np.asarray(right)).astype(np.int64)


def _same_sample(
    rng: np.random.Generator, n: int, adjacent: float
) -> tuple[np.ndarray, np.ndarray]:
    low, high = sample_different(rng, n, adjacent)
    swap = rng.random(n) < 0.5
    left, right = np.where(swap, high, low), np.where(swap, low, high)
    same = balanced_labels(rng, n).astype(bool)
    digit = rng.integers(10, size=n)
    return np.where(same, digit, left), np.where(same, digit, right)


GREATER = LabelRule(
    name=DEFAULT_RULE,
    label=_greater_label,
    sample=_greater_sample,
    on_swap="flip",
    pair_prior=different_prior,
    description="1 iff the left digit is greater than the right one; the digits always differ "
    "(the original task)",
)

SAME = LabelRule(
    name="same",
    label=_same_label,
    sample=_same_sample,
    on_swap="keep",
    pair_prior=_same_prior,
    description="1 iff both digits are equal; half of the pairs are equal",
)


@hookimpl
def register_label_rules(register):
    register(GREATER)
    register(SAME)
