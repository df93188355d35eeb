"""LightGBM's split thresholds as float32 values that make the same decisions on float32 features.

LightGBM compares a feature with a double threshold (``x <= t``), and puts its thresholds midway
between neighbouring training values. The ONNX TreeEnsembleClassifier that onnxmltools writes
holds float32 thresholds, rounded to nearest, so a threshold between two float32 values one step
apart rounds onto the upper one and sends every pair with that value the other way. int8 members
make such neighbours all the time: their logit is the difference of two dequantized products,
and the same integer difference comes out at two adjacent float32 values. Rounding each numerical
threshold down to the largest float32 not above it keeps ``x <= t`` exact for every float32 ``x``
(the members' logits are float32), so the converted trees decide as the booster does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CATEGORICAL = 1  # bit 0 of LightGBM's decision_type


def float32_booster(booster: Any) -> Any:
    """A copy of `booster` with every numerical threshold rounded down to float32."""
    import lightgbm as lgb

    lines = booster.model_to_string().split("\n")
    threshold_at = None
    for i, line in enumerate(lines):
        if line.startswith("Tree="):
            threshold_at = None
        elif line.startswith("threshold="):
            threshold_at = i
        elif line.startswith("decision_type=") and threshold_at is not None:
            kinds = [int(v) for v in line.split("=", 1)[1].split()]
            values = lines[threshold_at].split("=", 1)[1].split()
            lines[threshold_at] = "threshold=" + " ".join(
                v if kind & _CATEGORICAL else repr(round_down_float32(float(v)))
                for v, kind in zip(values, kinds, strict=True)
            )
    # tree_sizes gives each tree's length in bytes for a parallel load; without it LightGBM
    # reads the trees one after the other, and the rounded thresholds change the lengths
    lines = [line for line in lines if not line.startswith("tree_sizes=")]
    return lgb.Booster(model_str="\n".join(lines))


def round_down_float32(t: float) -> float:
    """The largest float32 value not above `t`, as a Python float (exact)."""
    down = np.float32(t)
    if float(down) > t:
        down = np.nextafter(down, np.float32(-np.inf))
    return float(down)
