"""The one-file ensemble's trees decide as the LightGBM booster does, on int8-like logits too."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import onnxruntime as ort

from pairzoo.ensemble.onnx_merge import lightgbm_to_onnx
from pairzoo.ensemble.stacking import predict_booster
from pairzoo.ensemble.tree_thresholds import float32_booster, round_down_float32


def int8_like_logits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits on a grid where each value also occurs one float32 step up (dequantized int8)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(-40, 40, (n, 2))
    x = (k * np.float32(0.0392355)).astype(np.float32)
    x = np.where(rng.random((n, 2)) < 0.5, np.nextafter(x, np.float32(np.inf)), x)
    y = ((k[:, 0] + 0.5 * k[:, 1] + rng.normal(0, 5, n)) > 0).astype(np.int64)
    return x.astype(np.float32), y


def test_converted_trees_match_the_booster_on_adjacent_float32_logits():
    x, y = int8_like_logits(2000, seed=0)
    params = {"objective": "binary", "verbose": -1, "max_depth": 5, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, y), 100)
    session = ort.InferenceSession(
        lightgbm_to_onnx(booster, 2).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    proba = session.run(None, {"input": x})[1][:, 1]
    reference = predict_booster(booster, x)
    assert np.max(np.abs(proba - reference)) <= 1e-6
    np.testing.assert_array_equal(proba > 0.5, reference > 0.5)


def test_rounded_booster_decides_as_the_original_on_float32_features():
    x, y = int8_like_logits(1000, seed=1)
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, y), 30)
    np.testing.assert_array_equal(
        predict_booster(float32_booster(booster), x), predict_booster(booster, x)
    )


def test_round_down_float32_is_the_largest_float32_not_above():
    for t in (0.1, -0.1, 0.039235515519976623, 1e-35, -1e-35, 0.0, 3.0):
        down = round_down_float32(t)
        assert down <= t and float(np.float32(down)) == down
        assert float(np.nextafter(np.float32(down), np.float32(np.inf))) > t
