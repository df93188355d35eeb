"""Greedy ensemble selection with replacement (Caruana et al., 2004).

Starting from the best single model, repeatedly add (with replacement) the model whose addition
gives the lowest log loss of the averaged probabilities on the fit rows; the result is a weight
per model (how often it was picked). Log loss rather than accuracy drives the search: it is
smooth, so small fit sets do not stall it on ties.
"""

from __future__ import annotations

import numpy as np

from pairzoo.metrics import sigmoid

_EPS = 1e-7


class CaruanaSelection:
    name = "greedy selection (Caruana)"

    def __init__(self, rounds: int = 25):
        self.rounds = rounds

    def fit(self, X: np.ndarray, y: np.ndarray) -> CaruanaSelection:
        p = sigmoid(X)
        y = np.asarray(y, dtype=np.float64)
        counts = np.zeros(p.shape[1], dtype=np.int64)
        total = np.zeros(len(y))
        for step in range(self.rounds):
            candidates = (total[:, None] + p) / (step + 1)
            losses = _log_loss(y, candidates)
            best = int(np.argmin(losses))
            counts[best] += 1
            total += p[:, best]
        self.weights = counts / counts.sum()
        self.members_used = [int(i) for i in np.flatnonzero(counts)]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X) @ self.weights


def _log_loss(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    q = np.clip(proba, _EPS, 1 - _EPS)
    return -(y[:, None] * np.log(q) + (1 - y[:, None]) * np.log(1 - q)).mean(axis=0)
