"""The realism report of `pairzoo data compare`: how well digit images of set B stand in for A.

Three views, from cheapest to strongest: SEED_SUMMARY's per-image statistics side by side (they
can agree while the sets differ), the statistics found to separate real pairs from generated
ones (pairzoo.data.separating, each with a KS statistic), and a classifier two-sample test
(pairzoo.data.two_sample), which sees whatever a small CNN can learn.
"""

from __future__ import annotations

import math

import numpy as np

from pairzoo.data.format import PairSplit
from pairzoo.data.separating import separation
from pairzoo.data.stats import LABELS, compare, digit_images, image_stats
from pairzoo.data.two_sample import TwoSampleResult, two_sample_test
from pairzoo.errors import DataError

__all__ = ["realism_report"]


def realism_report(a: PairSplit, b: PairSplit, *, seed: int) -> tuple[dict, TwoSampleResult]:
    """The report as JSON-ready data (strict JSON: None where a figure is undefined), and the
    two-sample test's result, whose scores pick the figures' images. DataError naming the
    smaller file where it has too few pairs for the test."""
    a_images, b_images = digit_images(a.x), digit_images(b.x)
    try:
        result = two_sample_test(a_images, b_images, seed=seed)
    except ValueError as e:  # too few images per side for its folds, as it says
        small = min((a, b), key=len)
        raise DataError(
            f"{small.path}: {len(small)} pairs are too few for the classifier two-sample test ({e})"
        ) from e
    report = {
        "seed": seed,
        "a": _side(a, a_images),
        "b": _side(b, b_images),
        "seed_summary": _seed_summary(image_stats(a_images), image_stats(b_images)),
        "separating": separation(a_images, b_images),
        "two_sample": result.to_json(),
    }
    return _strict(report), result


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
