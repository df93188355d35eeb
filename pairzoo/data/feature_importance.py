"""What tells set A from set B: the features detector's permutation importance, statistic by statistic.

The two-sample verdict says how well two sets can be told apart; this says by what, so whoever
fits a corruption file knows which figure to move first. A statistic's importance is the
held-out accuracy lost when its column is shuffled (sklearn's permutation_importance), on the
detector's own model cross-fitted on the images the test scored; no single statistic needs to
separate the sets on its own for its importance to show. Beside it, each side's 10th, 50th and
90th percentiles.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.feature_detector import FEATURE_NAMES, boosting_model, image_features

__all__ = ["MEASURE", "PERCENTILES", "feature_importance", "importance_section"]

PERCENTILES = (10, 50, 90)
MEASURE = "held-out accuracy lost when the statistic is shuffled"
_FOLDS = 5
_SHUFFLES = 5  # permutations per statistic and fold


def feature_importance(images: np.ndarray, n_per_side: int, *, seed: int) -> list[dict]:
    """One row per statistic of FEATURE_NAMES, most important first, for uint8 `images`
    (2 n_per_side, 28, 28), A's first (a two-sample result's images)."""
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import StratifiedKFold

    x = image_features(images)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n_per_side)
    lost = np.zeros((_FOLDS, x.shape[1]))
    split = StratifiedKFold(_FOLDS, shuffle=True, random_state=seed % 2**32)
    for k, (fit_idx, held_idx) in enumerate(split.split(x, y)):
        model = boosting_model(seed + k).fit(x[fit_idx], y[fit_idx])
        result = permutation_importance(
            model,
            x[held_idx],
            y[held_idx],
            scoring="accuracy",
            n_repeats=_SHUFFLES,
            random_state=seed + k,
        )
        lost[k] = result.importances_mean
    rows = [
        {
            "feature": name,
            "importance": float(lost[:, j].mean()),
            "importance_spread": [float(lost[:, j].min()), float(lost[:, j].max())],
            "a": _percentiles(x[y == 0, j]),
            "b": _percentiles(x[y == 1, j]),
        }
        for j, name in enumerate(FEATURE_NAMES)
    ]
    return sorted(rows, key=lambda row: -row["importance"])


def _percentiles(values: np.ndarray) -> list[float] | None:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return None
    return [float(v) for v in np.percentile(values, PERCENTILES)]


def importance_section(images: np.ndarray, n_per_side: int, *, seed: int) -> dict:
    """The report's section: which detector, what its figure means, the rows."""
    rows = feature_importance(images, n_per_side, seed=seed)
    return {"detector": "features", "measure": MEASURE, "rows": rows}
