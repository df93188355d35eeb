"""Sessions in any runtime of pairzoo.runtime.runtimes: onnxruntime with its options, or OpenVINO.

Each runtime opens a session
with onnxruntime's ``run(output_names, feeds)`` / ``get_inputs()`` / ``get_outputs()`` shape, so
members and the one-file ensemble run in any of them unchanged. OpenVINO is an optional extra
(``pip install 'pairzoo[openvino]'``); a runtime that cannot run here (not installed, no bf16 on
this CPU, ai.onnx.ml operators OpenVINO does not read) is reported with a one-line reason by
`unavailable` and skipped, never an error.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any, NamedTuple

import numpy as np

from pairzoo.errors import ConfigError
from pairzoo.runtime.runtimes import Runtime
from pairzoo.runtime.safety import check_self_contained
from pairzoo.runtime.sessions import open_session
from pairzoo.runtime.streams import StreamedSession


def unavailable(runtime: Runtime, model: bytes | None = None) -> str | None:
    """Why `runtime` cannot run (`model`) here, in one line; None if it can."""
    if runtime.backend == "onnxruntime":
        return None
    if importlib.util.find_spec("openvino") is None:
        return "openvino is not installed (pip install 'pairzoo[openvino]')"
    if model is not None and _uses_domain(model, "ai.onnx.ml"):
        return "OpenVINO reads no ai.onnx.ml operators (the LightGBM meta-learner)"
    if runtime.precision == "bf16" and "BF16" not in _openvino_capabilities():
        return "this CPU has no bf16 support that OpenVINO uses (avx512_bf16 or amx_bf16)"
    return None


def _uses_domain(model: bytes, domain: str) -> bool:
    """Whether a node of `model` is of `domain`. Not its opset imports: onnxruntime's quantizer
    declares ai.onnx.ml (and others) in every int8 file it writes, with no node of it."""
    import onnx

    if domain.encode() not in model:  # cheap: most files never name it
        return False
    proto = onnx.load_from_string(model)
    graphs = [proto.graph, *(f for f in proto.functions)]
    return any(n.domain == domain for g in graphs for n in g.node)


def last_line(exc: BaseException) -> str:
    """The last non-empty line of `exc`'s message, where OpenVINO puts the cause (after a stack
    of its source locations); the exception's type where the message is empty."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def open_runtime(model: bytes, runtime: Runtime, what: str = "model") -> Any:
    """A session running the self-contained ONNX `model` in `runtime`."""
    if runtime.backend == "onnxruntime":
        session = open_session(
            model,
            runtime.threads,
            runtime.optimize,
            inter_op=runtime.inter_op,
            what=what,
            arena=runtime.arena,
        )
    else:
        reason = unavailable(runtime, model)
        if reason:
            raise ConfigError(f"runtime {runtime.name} cannot run {what}: {reason}")
        session = OpenVinoSession(model, runtime, what)
    return session if runtime.streams < 2 else StreamedSession(session, runtime.streams)


class Arg(NamedTuple):
    """An input or output as onnxruntime describes it: name, type string, shape."""

    name: str
    type: str
    shape: list


class OpenVinoSession:
    """An OpenVINO CPU model behind onnxruntime's session interface."""

    def __init__(self, model: bytes, runtime: Runtime, what: str = "model") -> None:
        import openvino as ov

        check_self_contained(model, what)
        core = ov.Core()
        config = {
            "INFERENCE_NUM_THREADS": runtime.threads * runtime.streams,
            "INFERENCE_PRECISION_HINT": "bf16" if runtime.precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
            # pairzoo runs members in worker threads of its own, one per core: pinned, every
            # one-thread model sat on the same core (2 workers ran at 1 worker's speed)
            "ENABLE_CPU_PINNING": False,
        }
        if runtime.streams > 1:  # a request per stream, its threads its own (StreamedSession)
            config.update({"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": runtime.streams})
        self._compiled = core.compile_model(core.read_model(model), "CPU", config)
        self._local = threading.local()  # an infer request serves one call at a time

    def get_inputs(self) -> list[Arg]:
        return [_arg(p) for p in self._compiled.inputs]

    def get_outputs(self) -> list[Arg]:
        return [_arg(p) for p in self._compiled.outputs]

    def run(self, output_names: list[str] | None, feeds: dict[str, Any]) -> list:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        result = request.infer(feeds)
        ports = self._compiled.outputs
        names = output_names or [_name(p) for p in ports]
        return [np.array(result[next(p for p in ports if n in p.get_names())]) for n in names]


def _name(port: Any) -> str:
    """The ONNX name of a port (OpenVINO adds internal names beside it)."""
    names = sorted(port.get_names(), key=lambda n: (n.startswith("/"), n))
    return names[0] if names else port.get_any_name()


def _arg(port: Any) -> Arg:
    dims = [d.get_length() if d.is_static else None for d in port.get_partial_shape()]
    kind = _TYPES.get(port.get_element_type().get_type_name(), "?")
    return Arg(_name(port), f"tensor({kind})", dims)


_TYPES = {"f32": "float", "i64": "int64"}


def _openvino_capabilities() -> list[str]:
    import openvino as ov

    return list(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
