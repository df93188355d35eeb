"""The realism report of `pairzoo data compare`: how well digit images of set B stand in for A.

Three views, from cheapest to strongest: SEED_SUMMARY's per-image statistics side by side (they
can agree while the sets differ), the statistics found to separate real pairs from generated
ones (pairzoo.data.separating, each with a KS statistic), and a classifier two-sample test
(pairzoo.data.two_sample) with two detectors, a CNN on the pixels and gradient boosting on the
per-image statistics. The verdict is the stronger of the two; its p-value is doubled
(Bonferroni) because the stronger one was picked after seeing both. Which statistics the second
detector leans on (pairzoo.data.feature_importance) says what to fix first, and a learning curve
on parts of the sample shows whether more pairs would tell more.
"""

from __future__ import annotations

import math

import numpy as np

from pairzoo.data.feature_importance import importance_section
from pairzoo.data.format import PairSplit
from pairzoo.data.learning_curve import learning_curve
from pairzoo.data.realism_settings import DEFAULT_SETTINGS, RealismSettings
from pairzoo.data.separating import separation
from pairzoo.data.stats import LABELS, compare, digit_images, image_stats
from pairzoo.data.two_sample import DETECTORS, TwoSampleResult, two_sample_test
from pairzoo.errors import DataError

__all__ = ["realism_report"]


def realism_report(
    a: PairSplit, b: PairSplit, *, seed: int, settings: RealismSettings | None = None
) -> tuple[dict, TwoSampleResult]:
    """The report as JSON-ready data (strict JSON: None where a figure is undefined), and the
    CNN's two-sample result, whose scores pick the figures' images. DataError naming the
    smaller file where it has too few pairs for the test."""
    settings = settings or DEFAULT_SETTINGS
    a_images, b_images = digit_images(a.x), digit_images(b.x)
    try:
        results = {name: _test(a_images, b_images, seed, settings, name) for name in DETECTORS}
    except ValueError as e:  # too few images per side for its folds, as it says
        small = min((a, b), key=len)
        raise DataError(
            f"{small.path}: {len(small)} pairs are too few for the classifier two-sample test ({e})"
        ) from e
    report = {
        "seed": seed,
        "settings": {
            "folds": settings.folds,
            "repeats": settings.repeats,
            "cnn_epochs": settings.epochs,
            "max_per_side": settings.max_per_side,
        },
        "a": _side(a, a_images),
        "b": _side(b, b_images),
        "seed_summary": _seed_summary(image_stats(a_images), image_stats(b_images)),
        "separating": separation(a_images, b_images),
        "two_sample": {name: r.to_json() for name, r in results.items()},
        "verdict": _verdict(results),
        "what_tells_them_apart": importance_section(
            results["features"].images, results["features"].n_per_side, seed=seed
        ),
        "learning_curve": learning_curve(a_images, b_images, results, settings, seed),
    }
    return _strict(report), results["cnn"]


def _test(a, b, seed: int, settings: RealismSettings, detector: str) -> TwoSampleResult:
    return two_sample_test(
        a,
        b,
        seed=seed,
        max_per_side=settings.max_per_side,
        folds=settings.folds,
        epochs=settings.epochs,
        repeats=settings.repeats,
        detector=detector,
    )


def _verdict(results: dict[str, TwoSampleResult]) -> dict:
    name = max(results, key=lambda k: results[k].accuracy)
    best = results[name]
    return {
        "detector": name,
        "accuracy": best.accuracy,
        "accuracy_ci95": list(best.accuracy_ci),
        "pvalue": min(1.0, len(results) * best.pvalue),
    }


def _side(split: PairSplit, images: np.ndarray) -> dict:
    return {"path": str(split.path), "pairs": len(split), "images": len(images)}


def _seed_summary(a: dict, b: dict) -> list[dict]:
    rows = []
    for (stat, key, ref, got_a, _), (*_, got_b, _) in zip(compare(a), compare(b), strict=True):
        rows.append(
            {
                "statistic": stat,
                "key": key,
                "label": LABELS[stat],
                "original": ref,
                "a": got_a,
                "b": got_b,
                "b_vs_a": (got_b - got_a) / got_a if got_a else None,
            }
        )
    return rows


def _strict(obj):
    """`obj` with every NaN or infinity replaced by None (json.dumps would write NaN)."""
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
