"""The runtimes an ONNX pair model can run in, by name: backend, precision, threads and memory.

Names only (``ort``, ``ort-intra2``, ``openvino-bf16``, ...): the command line lists them without
loading onnxruntime; pairzoo.runtime.backends opens a session in one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Runtime:
    """One way to run a file: the backend, its precision and its threading and memory options."""

    name: str
    backend: str = "onnxruntime"
    precision: str = "fp32"
    threads: int = 1
    inter_op: int = 1
    optimize: str = "all"
    arena: bool = True
    # slices of each batch run at once, each on `threads` threads (pairzoo.runtime.streams)
    streams: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RUNTIMES = {
    r.name: r
    for r in (
        Runtime("ort"),
        Runtime("ort-intra2", threads=2),
        Runtime("ort-inter2", inter_op=2),
        Runtime("ort-basic", optimize="basic"),
        Runtime("ort-no-arena", arena=False),
        Runtime("openvino-fp32", backend="openvino"),
        Runtime("openvino-bf16", backend="openvino", precision="bf16"),
        Runtime("openvino-fp32-intra2", backend="openvino", threads=2),
        Runtime("openvino-bf16-intra2", backend="openvino", precision="bf16", threads=2),
        Runtime("ort-streams2", streams=2),
        Runtime("openvino-fp32-streams2", backend="openvino", streams=2),
        Runtime("openvino-bf16-streams2", backend="openvino", precision="bf16", streams=2),
    )
}
BASELINE = "ort"
# Members run one per core (pairzoo.runtime.sessions.default_workers): threads are not theirs
# to choose, the backend is. The one file holds every member and LightGBM in one session;
# OpenVINO runs it where its trees are plain operators (pairzoo.ensemble.tree_ops). Its
# streams runtimes run two slices of each batch at once, one thread each (OpenVINO's throughput
# mode): the one file is one model, so the two cores can only share it by data.
MEMBER_RUNTIMES = ("ort", "openvino-fp32", "openvino-bf16")
FILE_RUNTIMES = (
    "ort", "ort-intra2", "ort-inter2", "ort-basic", "ort-no-arena",
    "ort-streams2", "openvino-fp32-intra2", "openvino-bf16-intra2",
    "openvino-fp32-streams2", "openvino-bf16-streams2",
)  # fmt: skip


def get_runtime(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise ValueError(f"unknown runtime {name!r} (available: {', '.join(RUNTIMES)})")
    return RUNTIMES[name]
