"""Stratified folds and honest out-of-fold predictions for any combiner of base-model logits.

A combiner is any object with ``fit(X, y) -> self`` and ``predict_proba(X) -> (N,)`` (probability
of label 1), where X is the (pairs x models) logit matrix. ``out_of_fold`` fits a fresh combiner
on the other folds and predicts each held-out fold, so no prediction ever saw its own label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from pairzoo.errors import DataError
from pairzoo.metrics import accuracy


class Combiner(Protocol):
    name: str

    def fit(self, X: np.ndarray, y: np.ndarray) -> Combiner: ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


@dataclass
class OutOfFold:
    """Out-of-fold probabilities (one per row) and each fold's held-out accuracy."""

    proba: np.ndarray
    fold_accuracy: list[float]
    models: list[Any] = field(default_factory=list)


def stratified_folds(
    y: np.ndarray | None, n_folds: int, seed: int, what: str = "val"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`n_folds` (train_index, test_index) pairs from sklearn's shuffled StratifiedKFold."""
    from sklearn.model_selection import StratifiedKFold

    if y is None:
        raise DataError(f"{what} has no labels; stacking needs a labelled split (keys x, y, id)")
    if n_folds < 2:
        raise DataError(f"folds must be at least 2, found {n_folds}")
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(y) < n_folds or len(classes) < 2 or counts.min() < n_folds:
        found = ", ".join(f"{int(c)}: {int(n)}" for c, n in zip(classes, counts, strict=True))
        raise DataError(
            f"{what} has {len(y)} pairs (per label {{{found}}}); {n_folds}-fold stratified "
            f"cross-validation needs at least {n_folds} pairs of each label 0 and 1; "
            "use more pairs or fewer folds (--folds)"
        )
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(y)), y)]


def out_of_fold(
    make: Callable[[], Combiner],
    X: np.ndarray,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> OutOfFold:
    """Fit ``make()`` on each fold's training rows and predict its held-out rows."""
    proba = np.full(len(y), np.nan, dtype=np.float64)
    scores: list[float] = []
    models: list[Any] = []
    for train_idx, test_idx in folds:
        model = make().fit(X[train_idx], y[train_idx])
        proba[test_idx] = model.predict_proba(X[test_idx])
        scores.append(accuracy(y[test_idx], proba[test_idx]))
        models.append(model)
    if np.isnan(proba).any():
        raise ValueError("folds do not cover every row")
    return OutOfFold(proba=proba, fold_accuracy=scores, models=models)
