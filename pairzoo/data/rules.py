"""Label rules: how the two source digits of a pair become its label, and how pairs are sampled.

Rules are looked up by name through the plugin manager (`pairzoo.plugins.get_label_rule`); the
builtin plugin (`pairzoo_plugins.label_rules`) defines and registers `greater` (the original
task, `DEFAULT_RULE`) and `same`. This module holds what every rule is made of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_RULE",
    "LabelRule",
    "balanced_labels",
    "different_prior",
    "sample_different",
]

ON_SWAP = ("flip", "keep", "none")
# The rule of data whose meta.json names none, and of `pairzoo data make` unless told otherwise.
DEFAULT_RULE = "greater"


@dataclass(frozen=True)
class LabelRule:
    """A named labelling of digit pairs.

    `label(left, right)` maps two int arrays of digit classes to int64 labels in {0, 1};
    `sample(rng, n, adjacent)` draws `n` (left, right) digit pairs with balanced labels, where
    `adjacent` is the share of pairs of different digits that differ by exactly one;
    `on_swap` says what swapping the two images does to the label: "flip", "keep", or "none"
    (swap augmentation not allowed); `pair_prior(adjacent)`, optional, gives the (10, 10) table of
    how often each ordered (left, right) digit pair is sampled at that adjacency share (see
    :mod:`pairzoo.data.pair_prior`, which estimates it from `sample` for a rule without one).
    """

    name: str
    label: Callable[[np.ndarray, np.ndarray], np.ndarray]
    sample: Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]
    on_swap: str
    description: str = ""
    pair_prior: Callable[[float], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.on_swap not in ON_SWAP:
            raise ValueError(
                f"label rule '{self.name}': on_swap {self.on_swap!r}, expected one of {ON_SWAP}"
            )

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return self.label(left, right)


def balanced_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` labels, half of them 1 (the odd one out is 0), in random order."""
    y = np.zeros(n, dtype=np.int64)
    y[: n // 2] = 1
    return rng.permutation(y)


# Unordered pairs (low, high) of different digits, by distance: 9 adjacent, 36 others.
_PAIRS = np.array([(a, b) for a in range(10) for b in range(a + 1, 10)], dtype=np.int64)
_ADJACENT = _PAIRS[_PAIRS[:, 1] - _PAIRS[:, 0] == 1]
_FAR = _PAIRS[_PAIRS[:, 1] - _PAIRS[:, 0] > 1]


def sample_different(
    rng: np.random.Generator, n: int, adjacent: float
) -> tuple[np.ndarray, np.ndarray]:
    """`n` unordered pairs of different digits as (low, high): a share `adjacent` differ by one."""
    if not 0.0 <= adjacent <= 1.0:
        raise ValueError(f"adjacent share {adjacent} is outside [0, 1]")
    is_adjacent = rng.random(n) < adjacent
    pick_adjacent = _ADJACENT[rng.integers(len(_ADJACENT), size=n)]
    pick_far = _FAR[rng.integers(len(_FAR), size=n)]
    pairs = np.where(is_adjacent[:, None], pick_adjacent, pick_far)
    return pairs[:, 0], pairs[:, 1]


def different_prior(adjacent: float) -> np.ndarray:
    """(10, 10) table of `sample_different`'s pairs in either order: the share `adjacent` spread
    over the 18 ordered adjacent pairs, the rest over the 72 ordered far ones."""
    low, high = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    distance = np.abs(low - high)
    n_adjacent, n_far = 2 * len(_ADJACENT), 2 * len(_FAR)
    return np.where(
        distance == 1, adjacent / n_adjacent, np.where(distance > 1, (1 - adjacent) / n_far, 0.0)
    )
