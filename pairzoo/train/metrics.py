"""Binary classification metrics from scikit-learn: accuracy, F1, precision, recall, ROC-AUC."""

from __future__ import annotations

import numpy as np

METRIC_NAMES = ("accuracy", "f1", "precision", "recall", "roc_auc")


def binary_metrics(y_true: np.ndarray, logits: np.ndarray) -> dict[str, float | None]:
    """Metrics of logits (label 1 iff logit > 0) against 0/1 labels; ROC-AUC None with one class."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y_true = np.asarray(y_true).astype(np.int64)
    logits = np.asarray(logits, dtype=np.float64)
    y_pred = (logits > 0).astype(np.int64)
    both = len(np.unique(y_true)) == 2
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, logits)) if both else None,
    }
