"""Leave-one-shift-out ranking of the methods per predictor, and the interval their errors give.

Each method is fitted on all calibration sets but one and scored on the one left out, for every
set in turn: methods are ranked by their largest held-out error, and each is refitted on all
sets. An estimate uses the best-ranked method that applies to the file: the agreement methods
are trusted only within the agreements they were fitted on (members that agree on pairs unlike
any calibration pair, noise say, can agree and all be wrong), and the plane over agreement and
confidence only within the confidences too, so outside them the next method is used. The
interval's half-width is the used method's largest held-out error plus the sampling error of
the estimate on the file's own pairs (1.96 binomial standard errors): a small file gets a wider
interval, and nothing in it comes from the file's labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pairzoo.estimate.methods import METHODS, USE_AGREEMENT, SetScores, available, fit, predict

Z = 1.96  # two-sided 95% normal quantile, for the file's own sampling error
SLACK = 0.02  # how far past the calibration sets' agreements (and confidences) a fit is trusted


@dataclass(frozen=True)
class Ranked:
    method: str
    params: dict[str, float]
    held_out_error: dict[str, float]  # set name -> estimate minus accuracy, that set left out

    @property
    def max_error(self) -> float:
        return max(abs(e) for e in self.held_out_error.values())


@dataclass(frozen=True)
class Fitted:
    """One predictor's calibration: every method that applies, best first."""

    ranked: list[Ranked]
    agreement_range: tuple[float, float] | None = None
    confidence_range: tuple[float, float] | None = None

    @property
    def method(self) -> str:
        return self.ranked[0].method

    @property
    def max_error(self) -> float:
        return self.ranked[0].max_error

    def usable(self, scores: SetScores) -> Ranked:
        for r in self.ranked:
            if r.method in USE_AGREEMENT and not _within(self.agreement_range, scores.agreement):
                continue
            if r.method == "agreement_confidence" and not _within(
                self.confidence_range, scores.confidence
            ):
                continue
            return r
        raise ValueError("no estimate method applies")  # confidence always does

    def estimate(self, scores: SetScores) -> dict[str, Any]:
        """The estimate for one unlabelled set, with its interval."""
        r = self.usable(scores)
        value = predict(r.method, r.params, scores)
        n = max(len(scores.margin), 1)
        half = r.max_error + Z * np.sqrt(max(value * (1 - value), 0.25 / n) / n)
        return {
            "accuracy": round(value, 4),
            "low": round(max(0.0, value - half), 4),
            "high": round(min(1.0, value + half), 4),
            "method": r.method,
            "held_out_max_error": round(r.max_error, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "ranked": [
                {"method": r.method, "params": r.params, "held_out_error": r.held_out_error}
                for r in self.ranked
            ],
            **({"agreement_range": list(self.agreement_range)} if self.agreement_range else {}),
            **({"confidence_range": list(self.confidence_range)} if self.confidence_range else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fitted:
        ranked = [Ranked(r["method"], dict(r["params"]), dict(r["held_out_error"]))
                  for r in d["ranked"]]  # fmt: skip
        spans = [d.get(k) for k in ("agreement_range", "confidence_range")]
        return cls(ranked, *(tuple(span) if span else None for span in spans))


def calibrate(sets: dict[str, SetScores]) -> Fitted:
    """Every method that applies to `sets` (at least two), ranked by largest held-out error."""
    if len(sets) < 2:
        raise ValueError("calibration needs at least two labelled sets, one to hold out")
    ranked = []
    for method in METHODS:
        held = _held_out(method, sets)
        if held is not None:
            params = fit(method, list(sets.values()))
            ranked.append(Ranked(method, params, {k: round(e, 4) for k, e in held.items()}))
    ranked.sort(key=lambda r: (r.max_error, METHODS.index(r.method)))
    agreements = [s.agreement for s in sets.values()]
    span = None if None in agreements else (min(agreements), max(agreements))
    confidences = [s.confidence for s in sets.values()]
    return Fitted(ranked, span, (min(confidences), max(confidences)))


def _within(span: tuple[float, float] | None, value: float) -> bool:
    return span is not None and span[0] - SLACK <= value <= span[1] + SLACK


def _held_out(method: str, sets: dict[str, SetScores]) -> dict[str, float] | None:
    out = {}
    for name, held in sets.items():
        rest = [s for k, s in sets.items() if k != name]
        if not available(method, rest):
            return None
        out[name] = predict(method, fit(method, rest), held) - held.accuracy
    return out
