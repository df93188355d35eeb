"""Helpers for registry tests: a tiny hand-built pair model in ONNX and a registered entry."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from pairzoo.registry import Registry


def tiny_onnx(path: Path, scale: float = 10.0) -> Path:
    """logit = scale * mean(xa - xb): obeys the model I/O contract, needs no torch."""
    pair = ["N", 1, 28, 28]
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["xa", "xb"], ["d"]),
            helper.make_node("ReduceMean", ["d"], ["m"], axes=[1, 2, 3], keepdims=0),
            helper.make_node("Mul", ["m", "scale"], ["logit"]),
        ],
        "tiny_pair",
        [
            helper.make_tensor_value_info("xa", TensorProto.FLOAT, pair),
            helper.make_tensor_value_info("xb", TensorProto.FLOAT, pair),
        ],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor("scale", TensorProto.FLOAT, [], [scale])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def register_tiny(reg: Registry, tmp: Path, name: str = "tiny", scale: float = 10.0) -> dict:
    src = tiny_onnx(tmp / f"{name}-{scale}.onnx", scale)
    card = {
        "onnx": "model.onnx",
        "architecture": {"name": "tiny", "params": {"scale": scale}},
        "parameters": 1,
        "macs_per_pair": 784,
        "metrics": {"val": {"accuracy": 0.5}, "test_public": None},
    }
    return reg.add_entry(name, "model", {"model.onnx": src}, card)
