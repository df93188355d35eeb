"""The two-sample test's second detector: gradient boosting on per-image statistics.

It sees what the separating statistics describe (noise texture, occlusion shape, border zeros,
where the stroke sits) plus a coarse grey-level histogram, image by image, so a difference that
a CNN needs many images to learn can show with few. Fixed settings: nothing is tuned on the
images it scores.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.separating import PER_IMAGE, per_image_values

__all__ = [
    "FEATURE_NAMES",
    "HISTOGRAM_BINS",
    "boosting_model",
    "feature_fit_predict",
    "image_features",
]

HISTOGRAM_BINS = 8  # equal grey-level bins of the per-image histogram
_ROUNDS = 100
_BIN = 256 // HISTOGRAM_BINS
# image_features's columns, in order
FEATURE_NAMES = (
    *PER_IMAGE,
    "zero_fraction",
    "mean",
    "std",
    *(f"grey_{k * _BIN}_{(k + 1) * _BIN - 1}" for k in range(HISTOGRAM_BINS)),
)


def image_features(images: np.ndarray) -> np.ndarray:
    """float64 (M, F): the separating statistics of each uint8 image, its zero fraction, mean and
    standard deviation, and its grey-level histogram fractions, in FEATURE_NAMES's order (NaN
    where a statistic is undefined)."""
    images = np.asarray(images)
    columns = list(per_image_values(images).values())
    flat = images.reshape(len(images), -1)
    bins = (flat.astype(np.int64) * HISTOGRAM_BINS) // 256
    offset = np.arange(len(images))[:, None] * HISTOGRAM_BINS
    hist = np.bincount((bins + offset).ravel(), minlength=len(images) * HISTOGRAM_BINS)
    hist = hist.reshape(len(images), HISTOGRAM_BINS) / flat.shape[1]
    columns += [(flat == 0).mean(axis=1), flat.mean(axis=1), flat.std(axis=1)]
    return np.column_stack([*columns, hist]).astype(np.float64)


def feature_fit_predict(
    fit_x: np.ndarray, fit_y: np.ndarray, held_x: np.ndarray, *, seed: int, epochs: int
) -> np.ndarray:
    """Held-out P(from B) of `held_x` (rows of image_features) from gradient boosting fitted to
    the others (`epochs` is the CNN's and unused here; the signature is the detectors' one)."""
    model = boosting_model(seed)
    model.fit(fit_x, fit_y)
    return model.predict_proba(held_x)[:, 1].astype(np.float64)


def boosting_model(seed: int):
    """The detector's unfitted classifier: fixed settings, nothing tuned on the scored images."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=_ROUNDS,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
