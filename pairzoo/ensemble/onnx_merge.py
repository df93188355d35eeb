"""One ONNX graph for a whole stacking ensemble: members + LightGBM meta-learner.

Each member's names are prefixed (``m0_``, ``m1_``, ...) with ``onnx.compose.add_prefix``, and
so are its symbolic dims but the batch (pairzoo.ensemble.onnx_dims says why); a
fan-out graph feeds the shared inputs ``xa``/``xb`` to every member; the members' logits are
reshaped to (N, 1) and concatenated into the meta-learner's input (or, fused, members of one shape
run as grouped convolutions: pairzoo.ensemble.fuse); the meta-learner is LightGBM
converted by onnxmltools (``zipmap`` off, thresholds made exact in float32), or into plain
operators that OpenVINO reads too (pairzoo.ensemble.tree_ops). Outputs: ``probability`` float32 (N,) of label 1 and
``label`` int64 (N,). The pieces are joined with ``onnx.compose.merge_models``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pairzoo.ensemble.onnx_dims import scope_dims
from pairzoo.ensemble.tree_thresholds import float32_booster

# onnxmltools converts LightGBM at default-domain opset 15 at most (an int, not a dict).
LGBM_TARGET_OPSET = 15
MIN_OPSET = 17
BATCH = "N"
TREES = ("ml", "plain")  # the meta-learner as onnxmltools' ai.onnx.ml trees, or plain operators


def lightgbm_to_onnx(booster: Any, n_features: int) -> Any:
    """The booster as an ONNX model: input ``input`` float (N, n_features), outputs label/probabilities.

    The thresholds are rounded down to float32 first (pairzoo.ensemble.tree_thresholds says why).
    """
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = convert_lightgbm(
        float32_booster(booster),
        initial_types=[("input", FloatTensorType([None, n_features]))],
        target_opset=LGBM_TARGET_OPSET,
        zipmap=False,
    )
    for out in model.graph.output:  # the converter fixes the label's batch size at 1
        if out.type.tensor_type.shape.dim:
            out.type.tensor_type.shape.dim[0].ClearField("dim_value")
            out.type.tensor_type.shape.dim[0].dim_param = BATCH
    return model


def merge_ensemble(
    members: Sequence[Any], booster: Any, fuse: bool = False, trees: str = "ml"
) -> Any:
    """Join member ModelProtos (inputs xa, xb; first output the logit) and a LightGBM booster.

    With `fuse`, members of one shape run as grouped convolutions (pairzoo.ensemble.fuse);
    `trees` ``ml`` converts the booster with onnxmltools, ``plain`` into default-domain
    operators that runtimes without ai.onnx.ml read (pairzoo.ensemble.tree_ops).
    """
    import onnx
    from onnx import compose

    from pairzoo.ensemble.tree_ops import booster_to_onnx

    if trees not in TREES:
        raise ValueError(f"trees {trees!r}: expected one of {', '.join(TREES)}")
    convert = booster_to_onnx if trees == "plain" else lightgbm_to_onnx
    meta = convert(booster, len(members))
    parts = [*members, meta]
    opsets = _unified_opsets(parts)
    ir_version = max(p.ir_version for p in parts)
    parts = [_normalise(p, opsets, ir_version) for p in parts]
    *members, meta = parts

    if fuse:
        merged = _fused_features(members, opsets, ir_version)
    else:
        merged = _separate_features(members, opsets, ir_version)
    meta = compose.add_prefix(meta, prefix="meta_")
    merged = _dedupe_opsets(
        compose.merge_models(merged, meta, io_map=[("features", meta.graph.input[0].name)])
    )
    head = _normalise(_outputs(meta), opsets, ir_version)
    merged = compose.merge_models(
        merged,
        head,
        io_map=[(o.name, o.name) for o in meta.graph.output],
        outputs=["probability", "label"],
    )
    merged = _dedupe_opsets(merged)
    merged.graph.name = "pairzoo_ensemble"
    onnx.checker.check_model(merged, full_check=True)
    return merged


def _separate_features(members: Sequence[Any], opsets: dict[str, int], ir_version: int) -> Any:
    """xa, xb -> every member on its own (prefixed m0_, m1_, ...) -> ``features`` (N, members)."""
    from onnx import compose

    merged = _normalise(_fan_out(len(members), opsets), opsets, ir_version)
    logits = []
    for i, member in enumerate(members):
        prefixed = scope_dims(compose.add_prefix(member, prefix=f"m{i}_"), f"m{i}_", BATCH)
        inputs = [x.name for x in prefixed.graph.input]
        merged = compose.merge_models(merged, prefixed, io_map=[(name, name) for name in inputs])
        merged = _dedupe_opsets(merged)
        logits.append(prefixed.graph.output[0].name)

    tail = _normalise(_concat_logits(logits, opsets), opsets, ir_version)
    return _dedupe_opsets(compose.merge_models(merged, tail, io_map=[(n, n) for n in logits]))


def _fused_features(members: Sequence[Any], opsets: dict[str, int], ir_version: int) -> Any:
    """xa, xb -> the members fused by shape -> ``features`` (N, members)."""
    from pairzoo.ensemble.fuse import OUTPUT, fuse_members

    fused = _normalise(fuse_members(members), opsets, ir_version)
    return _rename_output(fused, OUTPUT, "features")


def _rename_output(model: Any, old: str, new: str) -> Any:
    """`model` with its output `old` (and the node that makes it) renamed `new`."""
    for node in model.graph.node:
        for j, name in enumerate(node.output):
            if name == old:
                node.output[j] = new
    for out in model.graph.output:
        if out.name == old:
            out.name = new
    return model


def _unified_opsets(models: Sequence[Any]) -> dict[str, int]:
    """The highest version of each domain that some node uses (tools often import unused ones,
    e.g. ai.onnx.ml 5 after quantization, where LightGBM's TreeEnsembleClassifier is gone)."""
    out: dict[str, int] = {"": MIN_OPSET}
    for m in models:
        used = {n.domain for n in m.graph.node}
        for op in m.opset_import:
            domain = "" if op.domain == "ai.onnx" else op.domain
            if domain == "" or domain in used:
                out[domain] = max(out.get(domain, 0), op.version)
    return out


def _normalise(model: Any, opsets: dict[str, int], ir_version: int) -> Any:
    """Same IR version and the same opset imports everywhere, as merge_models requires."""
    from onnx import helper, version_converter

    own = {op.domain: op.version for op in model.opset_import}
    if any(n.domain in ("", "ai.onnx") for n in model.graph.node) and own.get("", 0) < opsets[""]:
        if not all(n.domain.startswith("ai.onnx.ml") for n in model.graph.node if n.domain):
            model = version_converter.convert_version(model, opsets[""])
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(opsets.items()))
    model.ir_version = ir_version
    return model


def _dedupe_opsets(model: Any) -> Any:
    from onnx import helper

    seen = {op.domain: op.version for op in model.opset_import}
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(seen.items()))
    return model


def _pair_input(name: str) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, 1, 28, 28])


def _fan_out(n: int, opsets: dict[str, int]) -> Any:
    from onnx import helper

    nodes, outputs = [], []
    for i in range(n):
        for name in ("xa", "xb"):
            nodes.append(
                helper.make_node("Identity", [name], [f"m{i}_{name}"], name=f"fan_{i}_{name}")
            )
            outputs.append(_pair_input(f"m{i}_{name}"))
    graph = helper.make_graph(nodes, "fan_out", [_pair_input("xa"), _pair_input("xb")], outputs)
    return helper.make_model(graph)


def _concat_logits(logits: list[str], opsets: dict[str, int]) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    shape = numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), "col_shape")
    nodes = [
        helper.make_node("Reshape", [name, "col_shape"], [f"{name}_col"], name=f"col_{i}")
        for i, name in enumerate(logits)
    ]
    nodes.append(
        helper.make_node(
            "Concat", [f"{n}_col" for n in logits], ["features"], axis=1, name="concat"
        )
    )
    graph = helper.make_graph(
        nodes,
        "stack_logits",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in logits],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [BATCH, len(logits)])],
        initializer=[shape],
    )
    return helper.make_model(graph)


def _outputs(meta: Any) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    label, proba = _meta_outputs(meta)
    one = numpy_helper.from_array(np.array(1, dtype=np.int64), "one")
    nodes = [
        helper.make_node("Gather", [proba, "one"], ["probability"], axis=1, name="proba_1"),
        helper.make_node("Identity", [label], ["label"], name="label_out"),
    ]
    graph = helper.make_graph(
        nodes,
        "outputs",
        [
            helper.make_tensor_value_info(label, TensorProto.INT64, [BATCH]),
            helper.make_tensor_value_info(proba, TensorProto.FLOAT, [BATCH, 2]),
        ],
        [
            helper.make_tensor_value_info("probability", TensorProto.FLOAT, [BATCH]),
            helper.make_tensor_value_info("label", TensorProto.INT64, [BATCH]),
        ],
        initializer=[one],
    )
    return helper.make_model(graph)


def _meta_outputs(meta: Any) -> tuple[str, str]:
    from onnx import TensorProto

    label = next(
        o.name for o in meta.graph.output if o.type.tensor_type.elem_type == TensorProto.INT64
    )
    proba = next(
        o.name for o in meta.graph.output if o.type.tensor_type.elem_type == TensorProto.FLOAT
    )
    return label, proba
