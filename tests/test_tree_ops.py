"""LightGBM as plain ONNX operators: the booster's probabilities, read by any runtime."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnxruntime as ort
import pytest

from pairzoo.ensemble.onnx_merge import lightgbm_to_onnx
from pairzoo.ensemble.tree_ops import booster_to_onnx
from pairzoo.errors import ExportError


def _booster(seed: int = 0, missing: bool = False, **params):
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, (3000, 5))
    if missing:
        x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nansum(x[:, :3], axis=1) + rng.normal(size=len(x)) > 0).astype(int)
    base = {"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 1}
    return lgb.train({**base, **params}, lgb.Dataset(x, y), num_boost_round=30)


def _run(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"input": x})
    return label, proba


def _features(n: int, seed: int = 1) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, 3, (n, 5)).astype(np.float32)
    x[:20, 1] = np.nan  # missing values take the side LightGBM sends them
    x[20:40, 2] = 0.0
    return x


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"missing": True},
        {"sigmoid": 0.5},
        {"boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7},
    ],
    ids=["plain", "nan-splits", "sigmoid-0.5", "random-forest"],
)
def test_plain_trees_give_the_boosters_probabilities(params):
    booster = _booster(**params)
    x = _features(2000)
    want = booster.predict(x.astype(np.float64))
    for size in (1, 7, 2000):
        label, proba = _run(booster_to_onnx(booster, 5), x[:size])
        np.testing.assert_allclose(proba[:, 1], want[:size], rtol=0, atol=1e-6)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_array_equal(label, (want[:size] > 0.5).astype(np.int64))


def test_plain_trees_decide_as_onnxmltools_does_on_values_at_the_thresholds():
    booster = _booster(seed=3)
    dump = booster.dump_model()
    # every threshold itself and the float32 values just around it: the split's edge
    t = np.array(
        [n["threshold"] for tree in dump["tree_info"] for n in _splits(tree["tree_structure"])]
    ).astype(np.float32)
    edges = np.concatenate([t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf)])
    x = np.repeat(edges[:, None], 5, axis=1)
    _, plain = _run(booster_to_onnx(booster, 5), x)
    _, ml = _run(lightgbm_to_onnx(booster, 5), x)
    np.testing.assert_allclose(plain, ml, rtol=0, atol=1e-6)
    np.testing.assert_allclose(plain[:, 1], booster.predict(x.astype(np.float64)), atol=1e-6)


def _splits(node: dict):
    if "leaf_value" not in node:
        yield node
        yield from _splits(node["left_child"])
        yield from _splits(node["right_child"])


def test_the_file_holds_no_ai_onnx_ml_operator():
    model = booster_to_onnx(_booster(), 5)
    assert {n.domain for n in model.graph.node} == {""}
    assert [o.domain for o in model.opset_import] == [""]
    assert b"ai.onnx.ml" not in model.SerializeToString()


def test_a_booster_plain_operators_cannot_hold_is_refused_by_name():
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(0, 4, 500), rng.normal(size=500)])
    y = (x[:, 0] >= 2).astype(int)
    params = {"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1}
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[0]), num_boost_round=3)
    with pytest.raises(ExportError, match=r"tree \d+: split '=='.*numerical '<='"):
        booster_to_onnx(booster, 2)
    multi = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1},
        lgb.Dataset(x, rng.integers(0, 3, 500)),
        num_boost_round=2,
    )
    with pytest.raises(ExportError, match="binary boosters only"):
        booster_to_onnx(multi, 2)


@pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None,
    reason="openvino is not installed (pip install 'pairzoo[openvino]')",
)
def test_openvino_runs_the_plain_trees_exactly_in_fp32_at_large_batches():
    import openvino as ov

    booster = _booster()
    x = _features(20000)
    compiled = ov.Core().compile_model(
        ov.Core().read_model(booster_to_onnx(booster, 5).SerializeToString()),
        "CPU",
        {"INFERENCE_PRECISION_HINT": "f32"},
    )
    out = compiled.create_infer_request().infer({"input": x})
    proba = next(v for v in out.values() if v.ndim == 2)
    # a gather of 20,000 x nodes along axis 1 came out wrong past ~10,000 rows in OpenVINO 2026.4
    np.testing.assert_allclose(proba[:, 1], booster.predict(x.astype(np.float64)), atol=1e-6)
