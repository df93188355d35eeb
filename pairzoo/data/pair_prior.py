"""What a label rule says about digit pairs as 10x10 tables: which pairs are labelled 1, and how
often each ordered pair occurs in the data.

A model that reads each digit on its own can turn its two digit posteriors into a pair label
through these tables (the ``posterior`` fusion head does): the mask is the rule itself, and the
prior undoes the assumption that the two digits of a pair are independent, which the data's
adjacency share breaks.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.rules import LabelRule

__all__ = ["DIGITS", "MONTE_CARLO_PAIRS", "label_mask", "pair_prior", "pair_weights"]

DIGITS = 10
MONTE_CARLO_PAIRS = 400_000  # draws of a rule that states no prior of its own
_SEED = 20240527


def label_mask(rule: LabelRule) -> np.ndarray:
    """(10, 10) int64: entry (i, j) is the rule's label of left digit i and right digit j."""
    left, right = np.meshgrid(np.arange(DIGITS), np.arange(DIGITS), indexing="ij")
    mask = np.asarray(rule.label(left.ravel(), right.ravel()), dtype=np.int64).reshape(DIGITS, -1)
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"label rule '{rule.name}' labels digit pairs outside {{0, 1}}")
    return mask


def pair_prior(rule: LabelRule, adjacent: float) -> np.ndarray:
    """(10, 10) float64 summing to 1: how often (left i, right j) occurs in data the rule samples
    at this adjacency share. The rule's own ``pair_prior`` when it states one, else estimated from
    its sampler with a fixed seed (so the same rule always gives the same table)."""
    if not 0.0 <= adjacent <= 1.0:
        raise ValueError(f"adjacent share {adjacent} is outside [0, 1]")
    if rule.pair_prior is not None:
        prior = np.asarray(rule.pair_prior(adjacent), dtype=np.float64)
    else:
        left, right = rule.sample(np.random.default_rng(_SEED), MONTE_CARLO_PAIRS, adjacent)
        prior = np.zeros((DIGITS, DIGITS))
        np.add.at(prior, (np.asarray(left), np.asarray(right)), 1.0)
    if prior.shape != (DIGITS, DIGITS) or not np.isfinite(prior).all() or (prior < 0).any():
        raise ValueError(f"label rule '{rule.name}': pair prior is not a (10, 10) table of counts")
    if prior.sum() <= 0:
        raise ValueError(f"label rule '{rule.name}': pair prior is all zero")
    return prior / prior.sum()


def pair_weights(prior: np.ndarray) -> np.ndarray:
    """w(i, j) = prior(i, j) / (prior(i) prior(j)): what multiplies two independent digit
    posteriors (each already holding its digit's marginal share) to give the pair's posterior."""
    left, right = prior.sum(axis=1), prior.sum(axis=0)
    outer = np.outer(left, right)
    return np.divide(prior, outer, out=np.zeros_like(prior), where=outer > 0)
