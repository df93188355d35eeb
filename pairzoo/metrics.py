"""Binary classification metrics of a probability vector, through sklearn.metrics."""

from __future__ import annotations

import numpy as np

METRICS = ("accuracy", "f1", "precision", "recall", "roc_auc")


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, float64."""
    z = np.asarray(logits, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def to_labels(proba: np.ndarray) -> np.ndarray:
    """Label 1 where the probability of label 1 is strictly above one half."""
    return (np.asarray(proba) > 0.5).astype(np.int64)


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float | None]:
    """Accuracy, F1, precision, recall and ROC-AUC; ROC-AUC is None when `y` has one class."""
    from sklearn import metrics

    y = np.asarray(y, dtype=np.int64)
    pred = to_labels(proba)
    out: dict[str, float | None] = {
        "accuracy": float(metrics.accuracy_score(y, pred)),
        "f1": float(metrics.f1_score(y, pred, zero_division=0)),
        "precision": float(metrics.precision_score(y, pred, zero_division=0)),
        "recall": float(metrics.recall_score(y, pred, zero_division=0)),
        "roc_auc": None,
    }
    if len(np.unique(y)) == 2:
        out["roc_auc"] = float(metrics.roc_auc_score(y, proba))
    return out


def accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    return float(np.mean(to_labels(proba) == np.asarray(y)))
