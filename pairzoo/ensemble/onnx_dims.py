"""Symbolic dimension names belong to one ONNX model; a merged graph must keep each member's apart.

onnxruntime takes two dims with the same ``dim_param`` to be the same size and plans buffer reuse
on it. ONNX shape inference, which onnxruntime's quantizer runs and writes into the int8 file,
names every dim it cannot express ``unk__0``, ``unk__1``, ... afresh in each model. Two members of
a one-file ensemble can thus both declare an ``unk__7`` that is N in one and 2N in the other (an
antisymmetric model runs both orders of the pair in one batch of 2N through its heads), and
``onnx.compose.add_prefix`` renames nodes, edges and value infos but not dims. The merged session
then re-uses a buffer of the wrong size: it fails when a larger batch follows a smaller one, or
silently reads another tensor's memory. So every member's dims get the member's prefix, except its
batch dim, which is the ensemble's.
"""

from __future__ import annotations

from typing import Any


def scope_dims(model: Any, prefix: str, batch: str) -> Any:
    """`model` (modified in place) with each dim_param d renamed prefix + d, its batch dim to `batch`.

    The batch dim is the dim_param of axis 0 of the first graph input (the pair models' ``N``).
    Subgraphs (If, Loop, Scan bodies) are renamed too.
    """
    graph = model.graph
    first = graph.input[0].type.tensor_type.shape.dim if graph.input else []
    own_batch = first[0].dim_param if len(first) and first[0].HasField("dim_param") else None
    _rename_graph(graph, lambda d: batch if d == own_batch else f"{prefix}{d}")
    return model


def dim_params(model: Any) -> set[str]:
    """Every dim_param that `model` declares anywhere (inputs, outputs, value infos, subgraphs)."""
    found: set[str] = set()

    def collect(name: str) -> str:
        found.add(name)
        return name

    _rename_graph(model.graph, collect)
    return found


def _rename_graph(graph: Any, rename) -> None:
    for value in (*graph.input, *graph.output, *graph.value_info):
        _rename_type(value.type, rename)
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                _rename_graph(attr.g, rename)
            for sub in attr.graphs:
                _rename_graph(sub, rename)


def _rename_type(type_proto: Any, rename) -> None:
    kind = type_proto.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        tensor = getattr(type_proto, kind)
        if tensor.HasField("shape"):
            for dim in tensor.shape.dim:
                if dim.HasField("dim_param"):
                    dim.dim_param = rename(dim.dim_param)
    elif kind == "sequence_type":
        _rename_type(type_proto.sequence_type.elem_type, rename)
    elif kind == "optional_type":
        _rename_type(type_proto.optional_type.elem_type, rename)
    elif kind == "map_type":
        _rename_type(type_proto.map_type.value_type, rename)
