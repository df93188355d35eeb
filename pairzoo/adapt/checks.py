"""Label-free checks of an ensemble on the target pairs, and labelled val accuracy out of fold."""

from __future__ import annotations

from typing import Any

import numpy as np

from pairzoo.ensemble.folds import out_of_fold, stratified_folds
from pairzoo.ensemble.stacking import LGBMStacker
from pairzoo.metrics import accuracy


def swap_agreement(proba: np.ndarray, proba_swapped: np.ndarray, on_swap: str) -> float | None:
    """Share of pairs whose label on (b, a) is the one the rule implies from (a, b)."""
    if on_swap not in ("flip", "keep") or len(proba) == 0:
        return None
    direct, swapped = proba >= 0.5, proba_swapped >= 0.5
    implied = ~swapped if on_swap == "flip" else swapped
    return round(float((direct == implied).mean()), 4)


def label_agreement(a: np.ndarray | None, b: np.ndarray) -> float | None:
    """Share of pairs two rounds label alike (None for the first round)."""
    if a is None or len(b) == 0:
        return None
    return round(float(((a >= 0.5) == (b >= 0.5)).mean()), 4)


def val_accuracy_oof(logits: np.ndarray, y: np.ndarray, params) -> float:
    """The LightGBM stacker's out-of-fold val accuracy, scored as `pairzoo eval --ensemble` does."""
    y = np.asarray(y, dtype=np.int64)
    folds = stratified_folds(y, params.folds, params.seed, what="val")
    oof = out_of_fold(lambda: LGBMStacker(params), logits, y, folds)
    return round(accuracy(y, oof.proba), 6)


def round_checks(**figures: Any) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if v is not None}
