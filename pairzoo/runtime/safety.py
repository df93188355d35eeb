"""Only self-contained ONNX is loaded: a model cannot name a file outside itself for onnxruntime to read.

Every model is handed to onnxruntime as bytes that were checked first: its sha256 by the caller,
and here that it is self-contained. A tensor stored as external data names a file that
onnxruntime would read (relative to the working directory for a model given as bytes), so an
ONNX file from someone else could pull any file it can name into its weights; pairzoo never
writes external data and refuses every model that has any.
"""

from __future__ import annotations

from pairzoo.errors import RegistryError

# Session config key: parse the bytes as ONNX only, never as an ORT-format (flatbuffer) model,
# so what onnxruntime loads is what check_self_contained inspected.
ONNX_FORMAT_ONLY = "session.load_model_format"


def check_self_contained(model: bytes, what: str = "model") -> None:
    """Raise RegistryError unless serialized `model` parses as ONNX and has no external data."""
    import onnx  # here, not above: the registry imports this module for listing commands too
    from google.protobuf.message import DecodeError

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(model)
    except (DecodeError, ValueError) as exc:
        raise RegistryError(f"{what}: not a valid ONNX model ({exc})") from None
    refs = external_data_refs(proto.graph)
    if refs:
        tensor, location = refs[0]
        raise RegistryError(
            f"{what}: tensor '{tensor}' is stored as external data in {location!r} "
            f"({len(refs)} such tensor(s)); refused: pairzoo loads only self-contained ONNX files, "
            "so a model cannot read files outside itself"
        )


def external_data_refs(graph) -> list[tuple[str, str]]:
    """(tensor name, location) of every tensor of `graph` and its subgraphs kept outside it."""
    found: list[tuple[str, str]] = []
    tensors = list(graph.initializer)
    for sparse in graph.sparse_initializer:
        tensors += [sparse.values, sparse.indices]
    for node in graph.node:
        for attr in node.attribute:
            tensors += [attr.t, *attr.tensors]
            if attr.HasField("sparse_tensor"):
                tensors += [attr.sparse_tensor.values, attr.sparse_tensor.indices]
            subgraphs = [attr.g, *attr.graphs] if attr.HasField("g") else list(attr.graphs)
            for sub in subgraphs:
                found += external_data_refs(sub)
    for tensor in tensors:
        if tensor.data_location == tensor.EXTERNAL or len(tensor.external_data):
            where = {e.key: e.value for e in tensor.external_data}.get("location", "?")
            found.append((tensor.name, where))
    return found
