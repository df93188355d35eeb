"""Baseline combiners of base-model logits, each with the ``fit``/``predict_proba`` interface.

Anything that looks at labels (best single, accuracy weights, logistic regression) learns only
from the rows given to ``fit``, so cross-validation scores it as honestly as the stacker.
"""

from __future__ import annotations

import numpy as np

from pairzoo.metrics import sigmoid, to_labels


class SingleModel:
    """One base model alone."""

    def __init__(self, index: int, name: str):
        self.index = index
        self.name = name
        self.members_used = [index]

    def fit(self, X: np.ndarray, y: np.ndarray) -> SingleModel:
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X[:, self.index])


class BestSingle:
    """The base model with the highest accuracy on the fit rows (ties: the first)."""

    name = "best single"

    def fit(self, X: np.ndarray, y: np.ndarray) -> BestSingle:
        acc = column_accuracy(X, y)
        self.index = int(np.argmax(acc))
        self.members_used = [self.index]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X[:, self.index])


class MeanProbability:
    """Unweighted mean of the base models' probabilities."""

    name = "mean probability"

    def fit(self, X: np.ndarray, y: np.ndarray) -> MeanProbability:
        self.members_used = list(range(X.shape[1]))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X).mean(axis=1)


class AccuracyWeighted:
    """Mean of probabilities weighted by each model's accuracy on the fit rows."""

    name = "accuracy-weighted mean"

    def fit(self, X: np.ndarray, y: np.ndarray) -> AccuracyWeighted:
        acc = column_accuracy(X, y)
        self.weights = acc / acc.sum() if acc.sum() > 0 else np.full(len(acc), 1 / len(acc))
        self.members_used = list(range(X.shape[1]))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X) @ self.weights


class MajorityVote:
    """Share of models voting label 1; a tie is settled by the mean probability."""

    name = "majority vote"

    def fit(self, X: np.ndarray, y: np.ndarray) -> MajorityVote:
        self.members_used = list(range(X.shape[1]))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = sigmoid(X)
        share = to_labels(p).mean(axis=1)
        return np.where(share == 0.5, p.mean(axis=1), share)


class LogisticStacker:
    """Logistic regression on the logits (L2, C=1, lbfgs)."""

    name = "stacking (logistic regression)"

    def __init__(self, seed: int = 42):
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticStacker:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=1.0, max_iter=1000, random_state=self.seed)
        self.model.fit(np.asarray(X, dtype=np.float64), y)
        self.members_used = list(range(X.shape[1]))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]


def column_accuracy(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Accuracy of each column of logits (label 1 where logit > 0)."""
    return ((np.asarray(X) > 0).astype(np.int64) == np.asarray(y)[:, None]).mean(axis=0)
