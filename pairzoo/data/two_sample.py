"""A classifier two-sample test: can a detector tell the digit images of set A from set B?

Per-image statistics can agree while the images still differ in ways a model learns (noise
texture, stroke shape, where digits sit). This test asks a detector to tell the two sets apart:
accuracy near 50% means the sets stand in for each other; far above, they do not. Two
detectors: a small CNN on the pixels ("cnn", pairzoo.data.cnn_detector) and gradient boosting
on per-image statistics ("features", pairzoo.data.feature_detector).

Both sides are cut to the same number of images, drawn at random. The images are split into
`folds` stratified parts; for each, the detector trains on the others and scores the held-out
part (cross-fitting), so every image gets exactly one held-out score from a model that never saw
it, and nothing (no epoch, no threshold) is chosen on the scored images. That is repeated with
`repeats` different splits and model seeds; the accuracy is the repeats' mean, their spread
shown. The p-value is a one-sided binomial test of the mean correct count out of the 2n images
against 50%: each image is scored once per repeat, so the count is out of 2n, not 2n x repeats.
Everything is seeded: equal inputs and seed give equal figures on the same machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pairzoo.data.cnn_detector import cnn_fit_predict, cnn_inputs
from pairzoo.data.feature_detector import feature_fit_predict, image_features

__all__ = ["DETECTORS", "TwoSampleResult", "draw_subset", "two_sample_test"]

_BOOTSTRAP = 1000
_REPEAT_STRIDE = 100_003  # repeat r's seeds start at seed + r * this: no overlap between runs

# name -> (inputs of all images at once, fit on some rows and score others)
DETECTORS = {
    "cnn": (cnn_inputs, cnn_fit_predict),
    "features": (image_features, feature_fit_predict),
}


@dataclass(frozen=True)
class TwoSampleResult:
    detector: str
    n_per_side: int
    folds: int
    seed: int
    accuracies: tuple[float, ...]  # one per repeat
    accuracy: float  # their mean
    accuracy_ci: tuple[float, float]  # 95%, Wilson, on the mean count out of 2n
    pvalue: float  # one-sided binomial, H0: accuracy 50%
    roc_auc: float  # mean over the repeats
    roc_auc_ci: tuple[float, float]  # 95%, bootstrap percentile, first repeat
    scores: np.ndarray  # first repeat's held-out P(image is from B), A's images then B's
    images: np.ndarray  # uint8 (2n, 28, 28): the images scored, A's first

    def to_json(self) -> dict:
        return {
            "detector": self.detector,
            "n_per_side": self.n_per_side,
            "folds": self.folds,
            "seed": self.seed,
            "repeats": len(self.accuracies),
            "accuracy": self.accuracy,
            "accuracy_per_repeat": list(self.accuracies),
            "accuracy_spread": [min(self.accuracies), max(self.accuracies)],
            "accuracy_ci95": list(self.accuracy_ci),
            "pvalue": self.pvalue,
            "roc_auc": self.roc_auc,
            "roc_auc_ci95": list(self.roc_auc_ci),
        }


def two_sample_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    seed: int = 0,
    max_per_side: int = 4000,
    folds: int = 2,
    epochs: int = 16,
    repeats: int = 1,
    detector: str = "cnn",
) -> TwoSampleResult:
    """Held-out accuracy, p-value and ROC-AUC of `detector` telling uint8 images `a` from `b`
    (M, 28, 28); `epochs` is the CNN's fixed training length."""
    from scipy.stats import binomtest
    from sklearn.metrics import roc_auc_score

    inputs, fit_predict = DETECTORS[detector]
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), max_per_side)
    if n < 2 * folds:
        raise ValueError(f"two-sample test needs at least {2 * folds} images per side, got {n}")
    images = np.concatenate([draw_subset(a, n, rng), draw_subset(b, n, rng)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), n)
    x = inputs(images)
    runs = [
        _cross_fit(x, y, folds, seed + r * _REPEAT_STRIDE, fit_predict, epochs)
        for r in range(repeats)
    ]
    accuracies = tuple(float(((s > 0.5) == y).mean()) for s in runs)
    correct = round(float(np.mean(accuracies)) * len(y))
    test = binomtest(correct, len(y), 0.5, alternative="greater")
    ci = binomtest(correct, len(y)).proportion_ci(0.95, method="wilson")
    _, auc_ci = _auc_with_ci(y, runs[0], rng)
    return TwoSampleResult(
        detector,
        n,
        folds,
        seed,
        accuracies,
        float(np.mean(accuracies)),
        (float(ci.low), float(ci.high)),
        float(test.pvalue),
        float(np.mean([roc_auc_score(y, s) for s in runs])),
        auc_ci,
        runs[0],
        images,
    )


def _cross_fit(x, y: np.ndarray, folds: int, seed: int, fit_predict, epochs: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    scores = np.empty(len(y), dtype=np.float64)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed % 2**32)
    for k, (fit_idx, held_idx) in enumerate(split.split(np.zeros(len(y)), y)):
        scores[held_idx] = fit_predict(
            x[fit_idx], y[fit_idx], x[held_idx], seed=seed + k, epochs=epochs
        )
    return scores


def draw_subset(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` of `images` without replacement, in their order: the images a test scores."""
    return np.asarray(images)[np.sort(rng.choice(len(images), size=n, replace=False))]


def _auc_with_ci(
    y: np.ndarray, scores: np.ndarray, rng: np.random.Generator
) -> tuple[float, tuple[float, float]]:
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, scores))
    pos, neg = scores[y == 1], scores[y == 0]
    # Every bootstrap resample at once, by the rank-sum form of the AUC (ties count half).
    drawn = np.concatenate(
        [
            pos[rng.integers(len(pos), size=(_BOOTSTRAP, len(pos)))],
            neg[rng.integers(len(neg), size=(_BOOTSTRAP, len(neg)))],
        ],
        axis=1,
    )
    pos_ranks = rankdata(drawn, axis=1)[:, : len(pos)].sum(axis=1)
    boots = (pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    low, high = np.percentile(boots, [2.5, 97.5])
    return auc, (float(low), float(high))
