"""The stacker and the combiners: honest out-of-fold predictions, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.ensemble.baselines import (
    AccuracyWeighted,
    BestSingle,
    LogisticStacker,
    MajorityVote,
    MeanProbability,
)
from pairzoo.ensemble.caruana import CaruanaSelection
from pairzoo.ensemble.folds import out_of_fold, stratified_folds
from pairzoo.ensemble.stacking import LGBMStacker, StackingParams, load_booster, predict_booster
from pairzoo.errors import ConfigError, DataError


def logits(n: int = 400, m: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = (2 * y - 1)[:, None] * rng.uniform(0.3, 1.5, m)
    return (signal + rng.normal(0, 1.2, (n, m))).astype(np.float32), y


class Spy:
    """Records the row ids (column 0 of X) it was fit on; predicts a constant."""

    fitted: list[set[int]] = []
    name = "spy"

    def fit(self, X, y):
        Spy.fitted.append(set(X[:, 0].astype(int).tolist()))
        return self

    def predict_proba(self, X):
        return np.full(len(X), 0.5)


def test_out_of_fold_never_fits_on_the_held_out_fold():
    X, y = logits(200)
    X = np.column_stack([np.arange(len(y)), X])
    folds = stratified_folds(y, 5, seed=1)
    Spy.fitted = []
    out_of_fold(Spy, X, y, folds)
    assert len(Spy.fitted) == 5
    covered = set()
    for fitted, (train_idx, test_idx) in zip(Spy.fitted, folds, strict=True):
        assert fitted == set(train_idx.tolist())
        assert fitted.isdisjoint(test_idx.tolist())
        covered |= set(test_idx.tolist())
    assert covered == set(range(len(y)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: LGBMStacker(StackingParams(n_estimators=20)),
        lambda: LogisticStacker(),
        lambda: CaruanaSelection(10),
        BestSingle,
        AccuracyWeighted,
    ],
    ids=["lightgbm", "logistic", "caruana", "best-single", "acc-weighted"],
)
def test_shuffling_held_out_labels_does_not_change_their_predictions(make):
    X, y = logits(300)
    folds = stratified_folds(y, 5, seed=7)
    base = out_of_fold(make, X, y, folds).proba
    _, held_out = folds[2]
    y2 = y.copy()
    y2[held_out] = 1 - y2[held_out]  # the most drastic relabelling of one fold
    changed = out_of_fold(make, X, y2, folds).proba
    np.testing.assert_array_equal(changed[held_out], base[held_out])
    assert not np.array_equal(changed, base)  # other folds did see the relabelled rows


def test_stacker_is_deterministic_and_round_trips_through_text(tmp_path):
    X, y = logits(300)
    params = StackingParams(n_estimators=30, seed=3)
    a = LGBMStacker(params).fit(X, y)
    b = LGBMStacker(params).fit(X, y)
    assert a.booster.model_to_string() == b.booster.model_to_string()
    a.save(tmp_path / "meta.txt")
    assert "Tree=0" in (tmp_path / "meta.txt").read_text()
    loaded = load_booster(tmp_path / "meta.txt")
    np.testing.assert_array_equal(predict_booster(loaded, X), a.predict_proba(X))
    folds = stratified_folds(y, 5, seed=3)
    o1 = out_of_fold(lambda: LGBMStacker(params), X, y, folds)
    o2 = out_of_fold(lambda: LGBMStacker(params), X, y, folds)
    np.testing.assert_array_equal(o1.proba, o2.proba)


def test_stacker_defaults_are_the_originals():
    p = StackingParams()
    assert (p.n_estimators, p.learning_rate, p.max_depth, p.num_leaves, p.folds) == (
        100,
        0.05,
        5,
        31,
        5,
    )
    with pytest.raises(ConfigError, match="unknown stacking parameter 'trees'"):
        StackingParams.from_dict({"trees": 3})


def test_combiners_on_simple_cases():
    X = np.array([[2.0, -1.0, 3.0], [-2.0, -1.0, 1.0], [1.0, 1.0, -5.0]], dtype=np.float32)
    y = np.array([1, 0, 1])
    assert BestSingle().fit(X, y).index == 0
    mv = MajorityVote().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(mv, [2 / 3, 1 / 3, 2 / 3])
    mp = MeanProbability().fit(X, y).predict_proba(X)
    assert mp.shape == (3,)
    cs = CaruanaSelection(5).fit(X, y)
    assert cs.weights.sum() == pytest.approx(1.0)
    assert 0 in cs.members_used


def test_majority_vote_tie_falls_back_to_mean_probability():
    X = np.array([[3.0, -1.0], [1.0, -3.0]], dtype=np.float32)
    p = MajorityVote().fit(X, np.array([1, 0])).predict_proba(X)
    assert p[0] > 0.5 and p[1] < 0.5


def test_fewer_pairs_than_folds_is_one_clear_message():
    with pytest.raises(
        DataError, match="5-fold stratified cross-validation needs at least 5 pairs"
    ):
        stratified_folds(np.array([0, 1, 0, 1]), 5, seed=0)
    with pytest.raises(DataError, match=r"per label \{0: 10, 1: 2\}"):
        stratified_folds(np.array([0] * 10 + [1] * 2), 5, seed=0)


def test_missing_labels_is_one_clear_message():
    with pytest.raises(DataError, match="val has no labels"):
        stratified_folds(None, 5, seed=0)
