"""onnxruntime execution providers: choose CUDA when it can work, and report what was really used.

onnxruntime falls back to CPU without an error when the CUDA provider cannot load its libraries,
so the provider in use is read back from the session (`get_providers()`), never assumed.

Every model is handed to onnxruntime as bytes that were checked first: its sha256 by the caller,
and here that it is self-contained. A tensor stored as external data names a file that
onnxruntime would read (relative to the working directory for a model given as bytes), so an
ONNX file from someone else could pull any file it can name into its weights; pairzoo never
writes external data and refuses every model that has any.
"""

from __future__ import annotations

from pathlib import Path

from pairzoo.errors import RegistryError

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
CHOICES = ("cpu", "cuda")
# Session config key: parse the bytes as ONNX only, never as an ORT-format (flatbuffer) model,
# so what onnxruntime loads is what check_self_contained inspected.
ONNX_FORMAT_ONLY = "session.load_model_format"


def gpu_present() -> bool:
    """True when an NVIDIA device node is visible (no CUDA library is loaded to find out)."""
    return Path("/dev/nvidiactl").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def plan(require: str | None = None) -> list[str]:
    """Providers to ask for: CUDA first when onnxruntime-gpu and a GPU are present, then CPU."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if require is not None and require.lower() not in CHOICES:
        raise RegistryError(f"unknown provider {require!r} (choose from: {', '.join(CHOICES)})")
    want = (require or "").lower()
    if want == "cpu":
        return [CPU]
    if want == "cuda":
        if CUDA not in available:
            raise RegistryError(
                f"provider cuda required but onnxruntime {ort.__version__} has no {CUDA} "
                f"(available: {', '.join(available)}); install onnxruntime-gpu (extra 'pairzoo[gpu]')"
            )
        if not gpu_present():
            raise RegistryError(
                "provider cuda required but no NVIDIA GPU is visible (/dev/nvidia*)"
            )
        return [CUDA, CPU]
    return [CUDA, CPU] if CUDA in available and gpu_present() else [CPU]


def check_self_contained(model: bytes, what: str = "model") -> None:
    """Raise RegistryError unless serialized `model` parses as ONNX and has no external data."""
    import onnx
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


def create_session(model: bytes, require: str | None = None, what: str = "model"):
    """An InferenceSession for serialized `model`; returns (session, provider_used, note or None).

    The model must be self-contained (`check_self_contained`). With `require="cuda"`, a silent
    fall-back to CPU raises RegistryError instead.
    """
    import onnxruntime as ort

    check_self_contained(model, what)
    wanted = plan(require)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # fall-backs are detected and reported below
    options.add_session_config_entry(ONNX_FORMAT_ONLY, "ONNX")
    try:
        session = ort.InferenceSession(model, sess_options=options, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise RegistryError(
            f"{what}: onnxruntime cannot load it ({type(exc).__name__}: {exc})"
        ) from exc
    used = session.get_providers()[0]
    note = None
    if wanted[0] == CUDA and used != CUDA:
        note = (
            f"{CUDA} was requested but onnxruntime fell back to {used} "
            "(CUDA or cuDNN libraries missing or incompatible)"
        )
        if (require or "").lower() == "cuda":
            raise RegistryError(f"{what}: provider cuda required, but {note}")
    return session, used, note
