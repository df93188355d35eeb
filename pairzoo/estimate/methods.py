"""The estimators, each a fit on labelled calibration sets and a guess for an unlabelled one.

Every method sees a set only through `SetScores`: the predictor's margin |logit| per pair, the
agreement of its labels with the other members' (None for a lone model) and, on a calibration
set, which pairs it got right.

- confidence: the mean confidence max(p, 1 - p), the baseline; it fits nothing.
- doc: difference of confidences (Guillory et al. 2021): mean confidence plus the mean gap
  between accuracy and confidence on the calibration sets.
- atc: average thresholded confidence (Garg et al. 2022): the share of pairs whose margin
  passes the threshold at which that share equals the accuracy on the calibration sets.
- agreement: accuracy on a line with agreement in probit space (Baek et al. 2022), the line
  fitted through the calibration sets.
- agreement_confidence: accuracy on a plane over agreement and mean confidence in probit space,
  fitted by least squares. At one agreement, sets of the generator's two corruption families
  differ by up to 3 points of accuracy; where their confidences differ too, the plane can tell
  them apart without labels (where it cannot, the ranking keeps the line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from scipy.stats import norm

METHODS = ("confidence", "doc", "atc", "agreement", "agreement_confidence")
USE_AGREEMENT = ("agreement", "agreement_confidence")
_CLIP = 1e-4  # probit of 0 or 1 is infinite


@dataclass(frozen=True)
class SetScores:
    margin: np.ndarray  # float64 |logit| per pair
    agreement: float | None = None
    correct: np.ndarray | None = None  # bool per pair, on labelled sets only

    @property
    def confidence(self) -> float:
        return float(expit(self.margin).mean())

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())


def scores_of(logit: np.ndarray, y: np.ndarray | None = None, agreement: float | None = None):
    """SetScores of one predictor from its logits (label 1 where logit > 0)."""
    logit = np.asarray(logit, dtype=np.float64)
    correct = None if y is None else (logit > 0) == (np.asarray(y) == 1)
    return SetScores(np.abs(logit), agreement, correct)


def available(method: str, sets: Sequence[SetScores]) -> bool:
    """The agreement methods need other members, and one set more than they have parameters."""
    if method not in USE_AGREEMENT:
        return True
    least = 3 if method == "agreement" else 4
    return len(sets) >= least and all(s.agreement is not None for s in sets)


def fit(method: str, sets: Sequence[SetScores]) -> dict[str, float]:
    """The method's parameters from labelled calibration sets."""
    if method == "confidence":
        return {}
    if method == "doc":
        return {"offset": float(np.mean([s.accuracy - s.confidence for s in sets]))}
    if method == "atc":
        margins = np.concatenate([s.margin for s in sets])
        accuracy = float(np.concatenate([s.correct for s in sets]).mean())
        return {"threshold": float(np.quantile(margins, 1.0 - accuracy))}
    if method == "agreement":
        agree = _probit([s.agreement for s in sets])
        acc = _probit([s.accuracy for s in sets])
        slope, intercept = np.polyfit(agree, acc, 1)
        return {"slope": float(slope), "intercept": float(intercept)}
    if method == "agreement_confidence":
        features = np.array([_plane_features(s) for s in sets])
        acc = _probit([s.accuracy for s in sets])
        slope_a, slope_c, intercept = np.linalg.lstsq(features, acc, rcond=None)[0]
        return {"slope_agreement": float(slope_a), "slope_confidence": float(slope_c),
                "intercept": float(intercept)}  # fmt: skip
    raise ValueError(f"unknown estimate method {method!r} (available: {', '.join(METHODS)})")


def predict(method: str, params: dict[str, float], scores: SetScores) -> float:
    """The estimated accuracy on one set, in [0, 1]."""
    if method == "confidence":
        value = scores.confidence
    elif method == "doc":
        value = scores.confidence + params["offset"]
    elif method == "atc":
        value = float((scores.margin > params["threshold"]).mean())
    elif method == "agreement":
        z = params["slope"] * _probit([scores.agreement])[0] + params["intercept"]
        value = float(norm.cdf(z))
    elif method == "agreement_confidence":
        weights = [params["slope_agreement"], params["slope_confidence"], params["intercept"]]
        value = float(norm.cdf(_plane_features(scores) @ np.asarray(weights)))
    else:
        raise ValueError(f"unknown estimate method {method!r} (available: {', '.join(METHODS)})")
    return float(np.clip(value, 0.0, 1.0))


def _plane_features(scores: SetScores) -> np.ndarray:
    return np.append(_probit([scores.agreement, scores.confidence]), 1.0)


def _probit(values) -> np.ndarray:
    return norm.ppf(np.clip(np.asarray(values, dtype=np.float64), _CLIP, 1 - _CLIP))
