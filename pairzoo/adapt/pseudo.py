"""Pseudo-labels: the target pairs the ensemble is confident about, in the ensemble's class shares.

A confident pair has max(p, 1 - p) >= threshold. Confidence is rarely the same for both
classes, so the confident pairs alone would tilt the labels towards the easier class; the most
confident pairs of each class are taken in the shares the ensemble predicts over all pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PseudoLabels:
    index: np.ndarray  # int64 rows of the target pairs
    label: np.ndarray  # float32 in {0, 1}
    confident: int  # target pairs at or above the threshold, before balancing
    share_1: float  # share of label 1 the ensemble predicts over all target pairs

    def facts(self, n: int, threshold: float) -> dict[str, float | int]:
        return {
            "threshold": threshold,
            "target_pairs": n,
            "confident": self.confident,
            "confident_share": round(self.confident / n, 4) if n else 0.0,
            "pseudo_labelled": len(self.index),
            "predicted_1_share": round(self.share_1, 4),
            "pseudo_1_share": round(float(self.label.mean()), 4) if len(self.label) else None,
        }


def select_pseudo_labels(proba: np.ndarray, threshold: float) -> PseudoLabels:
    """Confident pairs of `proba` (probability of label 1), class shares kept."""
    proba = np.asarray(proba, dtype=np.float64)
    predicted = proba >= 0.5
    confidence = np.where(predicted, proba, 1.0 - proba)
    confident = confidence >= threshold
    share_1 = float(predicted.mean()) if len(proba) else 0.0
    by_class = [np.flatnonzero(confident & (predicted == c)) for c in (False, True)]
    total = _balanced_total(len(by_class[0]), len(by_class[1]), share_1)
    n1 = round(total * share_1)
    chosen = []
    for cls, want in ((0, total - n1), (1, n1)):
        rows = by_class[cls]
        chosen.append(rows[np.argsort(-confidence[rows], kind="stable")[:want]])
    index = np.sort(np.concatenate(chosen)).astype(np.int64)
    return PseudoLabels(index, predicted[index].astype(np.float32), int(confident.sum()), share_1)


def _balanced_total(n0: int, n1: int, share_1: float) -> int:
    """The most pairs that n0 confident 0s and n1 confident 1s give in shares (1 - s, s)."""
    if share_1 <= 0.0:
        return n0
    if share_1 >= 1.0:
        return n1
    total = int(min(n0 / (1.0 - share_1), n1 / share_1))
    while total > 0 and (round(total * share_1) > n1 or total - round(total * share_1) > n0):
        total -= 1
    return total
