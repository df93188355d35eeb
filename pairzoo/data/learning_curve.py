"""How the two-sample accuracy grows with the sample: the same test on random parts of it.

Where the accuracy still rises from a quarter to half to all of the images, more real pairs
would tell more; where it is flat, the sample has said what it can.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.realism_settings import RealismSettings
from pairzoo.data.two_sample import DETECTORS, TwoSampleResult, two_sample_test

__all__ = ["learning_curve"]


def learning_curve(
    a: np.ndarray,
    b: np.ndarray,
    full: dict[str, TwoSampleResult],
    settings: RealismSettings,
    seed: int,
) -> list[dict]:
    """One row per fraction of settings.curve (one repeat each) and the full sample's results."""
    n = next(iter(full.values())).n_per_side
    rows = []
    for fraction in settings.curve:
        size = round(fraction * n)
        row = {"fraction": fraction, "n_per_side": size, "repeats": 1}
        for name in DETECTORS:
            if size < 2 * settings.folds:
                row[name] = None
                continue
            result = two_sample_test(
                a,
                b,
                seed=seed,
                max_per_side=size,
                folds=settings.folds,
                epochs=settings.epochs,
                detector=name,
            )
            row[name] = result.accuracy
        rows.append(row)
    last = {"fraction": 1.0, "n_per_side": n, "repeats": settings.repeats}
    rows.append(last | {name: r.accuracy for name, r in full.items()})
    return rows
