"""A LightGBM booster as plain ONNX operators, so a runtime without ai.onnx.ml can run the trees.

onnxmltools writes the trees as one ai.onnx.ml TreeEnsembleClassifier, which onnxruntime runs and
OpenVINO does not read; a one-file ensemble holding it cannot run where its members run fastest.
Here every tree becomes the same few default-domain operators (the "GEMM" form of tree
inference): each internal node's feature is gathered and compared with its threshold, one batched
MatMul of the decisions against a path matrix counts, for every leaf, the left turns taken
towards it, the leaf whose count matches is the one reached, and a second MatMul sums the
reached leaves' values. The decisions and counts are 0, 1 and small integers, exact in any
precision; only the leaf values and their sum are rounded where a runtime computes in bf16.
(hummingbird-ml builds the same form through torch.onnx, whose exporter in torch 2.13 fails on
its graphs.) Thresholds are rounded down to float32 as in pairzoo.ensemble.tree_thresholds, so
``x <= t`` decides as LightGBM's double comparison does.

Inputs and outputs are those of onnxmltools' conversion: ``input`` float (N, features), ``label``
int64 (N,) and ``probabilities`` float (N, 2), so pairzoo.ensemble.onnx_merge joins either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pairzoo.ensemble.tree_thresholds import round_down_float32
from pairzoo.errors import ExportError

OPSET = 17
BATCH = "N"


@dataclass
class _Tree:
    """One tree's nodes in depth-first order: per internal node its feature, threshold and
    where NaN goes; per leaf its value and, for every internal node, whether the leaf lies
    under its left child (+1), its right child (-1) or neither (0)."""

    features: list[int] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    nan_left: list[bool] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    paths: list[dict[int, int]] = field(default_factory=list)  # per leaf: node -> +1 | -1


def booster_to_onnx(booster: Any, n_features: int) -> Any:
    """The binary LightGBM `booster` as a default-domain ModelProto (see the module docstring)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    dump = booster.dump_model()
    _check_objective(dump)
    trees = [_walk(t["tree_structure"], t["tree_index"]) for t in dump["tree_info"]]
    if not trees:
        raise ExportError("the LightGBM meta-learner has no trees")
    arrays = _arrays(trees)
    scale = _sigmoid_scale(dump["objective"]) / (len(trees) if dump.get("average_output") else 1)
    arrays["scale"] = np.array(scale, dtype=np.float32)
    arrays["zero"] = np.array(0.0, dtype=np.float32)
    arrays["one"] = np.array(1.0, dtype=np.float32)
    arrays["sum_axes"] = np.array([0, 1], dtype=np.int64)
    arrays["shape"] = np.array([len(trees), arrays["thresholds"].size // len(trees), -1], np.int64)
    arrays["column"] = np.array([-1, 1], dtype=np.int64)
    node = helper.make_node
    nodes = [
        # nodes along axis 0: a gather of whole rows, and no transpose before the MatMuls
        node("Transpose", ["input"], ["by_feature"], perm=[1, 0]),
        node("Gather", ["by_feature", "features"], ["at_node"], axis=0),
        node("LessOrEqual", ["at_node", "thresholds"], ["below"]),
        node("IsNaN", ["at_node"], ["missing"]),
        # NaN <= t is false: a missing value goes left only where its node sends NaN left
        node("And", ["missing", "nan_left"], ["missing_left"]),
        node("Or", ["below", "missing_left"], ["left"]),
        node("Cast", ["left"], ["left_f"], to=TensorProto.FLOAT),
        node("Reshape", ["left_f", "shape"], ["left_tkn"]),
        node("MatMul", ["paths", "left_tkn"], ["turns"]),
        node("Equal", ["turns", "targets"], ["reached"]),
        node("Cast", ["reached"], ["reached_f"], to=TensorProto.FLOAT),
        node("MatMul", ["values", "reached_f"], ["per_tree"]),
        node("ReduceSum", ["per_tree", "sum_axes"], ["raw"], keepdims=0),
        node("Mul", ["raw", "scale"], ["score"]),
        node("Sigmoid", ["score"], ["p1"]),
        node("Sub", ["one", "p1"], ["p0"]),
        node("Reshape", ["p0", "column"], ["p0_col"]),
        node("Reshape", ["p1", "column"], ["p1_col"]),
        node("Concat", ["p0_col", "p1_col"], ["probabilities"], axis=1),
        node("Greater", ["score", "zero"], ["positive"]),
        node("Cast", ["positive"], ["label"], to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes,
        "lightgbm_plain",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [BATCH, n_features])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [BATCH]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [BATCH, 2]),
        ],
        initializer=[numpy_helper.from_array(v, k) for k, v in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    checker.check_model(model, full_check=True)
    return model


def _check_objective(dump: dict) -> None:
    if dump.get("num_class", 1) != 1 or not str(dump.get("objective", "")).startswith("binary"):
        raise ExportError(
            f"the LightGBM meta-learner's objective is {dump.get('objective')!r} with "
            f"{dump.get('num_class')} classes; plain operators hold binary boosters only"
        )


def _sigmoid_scale(objective: str) -> float:
    """The k of ``binary sigmoid:k`` (LightGBM's probability is 1 / (1 + exp(-k * raw)))."""
    for part in objective.split()[1:]:
        if part.startswith("sigmoid:"):
            return float(part.split(":", 1)[1])
    return 1.0


def _walk(root: dict, index: int) -> _Tree:
    tree = _Tree()

    def visit(n: dict, path: dict[int, int]) -> None:
        if "leaf_value" in n:
            tree.values.append(float(n["leaf_value"]))
            tree.paths.append(path)
            return
        if n.get("decision_type") != "<=" or n.get("missing_type", "None") not in ("None", "NaN"):
            raise ExportError(
                f"LightGBM tree {index}: split {n.get('decision_type')!r} with missing type "
                f"{n.get('missing_type')!r}; plain operators hold numerical '<=' splits only"
            )
        i = len(tree.features)
        t = float(n["threshold"])
        tree.features.append(int(n["split_feature"]))
        tree.thresholds.append(round_down_float32(t))
        # LightGBM: NaN takes the default side where NaN is the missing value, else counts as 0
        tree.nan_left.append(bool(n["default_left"]) if n["missing_type"] == "NaN" else 0.0 <= t)
        visit(n["left_child"], {**path, i: 1})
        visit(n["right_child"], {**path, i: -1})

    visit(root, {})
    return tree


def _arrays(trees: list[_Tree]) -> dict[str, np.ndarray]:
    """The trees padded to one size: a padded node's path row is 0, a padded leaf's target -1
    (no count reaches it) and its value 0; a stump (no split) is one leaf reached by count 0."""
    k = max(1, max(len(t.features) for t in trees))
    leaves = max(len(t.values) for t in trees)
    n = len(trees)
    features = np.zeros((n, k), np.int64)
    thresholds = np.zeros((n, k), np.float32)
    nan_left = np.zeros((n, k), bool)
    paths = np.zeros((n, leaves, k), np.float32)
    targets = np.full((n, leaves, 1), -1.0, np.float32)
    values = np.zeros((n, 1, leaves), np.float32)
    for j, t in enumerate(trees):
        m = len(t.features)
        features[j, :m], thresholds[j, :m], nan_left[j, :m] = t.features, t.thresholds, t.nan_left
        for leaf, (value, path) in enumerate(zip(t.values, t.paths, strict=True)):
            values[j, 0, leaf] = value
            targets[j, leaf, 0] = sum(1 for turn in path.values() if turn > 0)
            for node, turn in path.items():
                paths[j, leaf, node] = turn
    return {
        "features": features.ravel(),
        "thresholds": thresholds.reshape(-1, 1),
        "nan_left": nan_left.reshape(-1, 1),
        "paths": paths,
        "targets": targets,
        "values": values,
    }
