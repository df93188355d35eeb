"""Batched onnxruntime inference of several pair models: a (pairs x models) logit matrix.

Each batch of pairs is split into ``xa``/``xb`` once and fed to every model; the time spent in
each model's ``session.run`` is recorded so throughput and per-model latency come from the
same pass.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.registry.card import format_ref

# Measured (benchmarks/bench_ensemble.py) on the 2-core reference CPU, shared with other work,
# for three width-0.25 builtin models (18-40 M MACs per pair): one intra-op thread per session
# and batches of 64 pairs were fastest for fp32 and int8 (fp32: 507 pairs/s at batch 64, 413 at
# 1024; a second intra-op thread 425, with spinning 205; members in two Python threads 467).
DEFAULT_THREADS = 1
DEFAULT_BATCH = 64


def default_workers(members: int, threads: int = DEFAULT_THREADS) -> int:
    """How many members run at once: one per usable core, each session on `threads` intra-op
    threads. On a quiet 2-core EPYC (avx512_vnni) the eleven-member zoo ran 1.87x faster in two
    workers than in one (385 against 206 pairs/s, `python -m benchmarks ensemble`)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(members, (cores or 1) // max(threads, 1)))


@dataclass
class Member:
    """One base model ready to run: its identity and an onnxruntime session."""

    name: str
    version: int | None
    sha256: str
    session: Any
    output: str = ""
    macs_per_pair: int | None = None
    card: dict = field(default_factory=dict)
    variant: dict | None = None  # fp32 or int8, and why (pairzoo.ensemble.variants)
    choice: Any = None  # the variants.Choice behind `variant`
    runtime: Any = (
        None  # the runtime_choice.RuntimeChoice it runs in (None: onnxruntime's defaults)
    )

    def __post_init__(self) -> None:
        if not self.output:
            self.output = self.session.get_outputs()[0].name

    @property
    def ref(self) -> str:
        return format_ref(self.name, self.version)


@dataclass
class LogitMatrix:
    """Logits (pairs x models) and the seconds each model spent in ``session.run``."""

    logits: np.ndarray
    model_seconds: np.ndarray
    prep_seconds: float
    wall_seconds: float
    batch_size: int

    @property
    def n(self) -> int:
        return int(self.logits.shape[0])

    def per_pair_us(self) -> np.ndarray:
        return self.model_seconds / max(self.n, 1) * 1e6

    def pairs_per_second(self) -> float:
        return self.n / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def session_options(
    threads: int = DEFAULT_THREADS,
    optimize: str = "all",
    spinning: bool = False,
    inter_op: int = 1,
    arena: bool = True,
) -> Any:
    """onnxruntime session options: full graph optimisation, `threads` intra-op threads.

    Spinning (worker threads busy-waiting for work) is off by default: on a shared CPU the
    spinning threads steal the cores the work needs. ``inter_op > 1`` runs independent branches
    of the graph (the members of a one-file ensemble) concurrently.
    """
    import onnxruntime as ort

    levels = {
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    so = ort.SessionOptions()
    so.graph_optimization_level = levels[optimize]
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = inter_op
    so.execution_mode = (
        ort.ExecutionMode.ORT_PARALLEL if inter_op > 1 else ort.ExecutionMode.ORT_SEQUENTIAL
    )
    so.log_severity_level = 3
    so.enable_cpu_mem_arena = arena
    if not spinning:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return so


def open_session(
    model: str | bytes | Any,
    threads: int = DEFAULT_THREADS,
    optimize: str = "all",
    spinning: bool = False,
    inter_op: int = 1,
    what: str = "model",
    arena: bool = True,
) -> Any:
    """A CPU onnxruntime session for a path, serialized bytes or an onnx ModelProto.

    The model is handed to onnxruntime as bytes, and only once it is known to be self-contained
    ONNX (no external data files it could read); RegistryError naming `what` otherwise.
    """
    import onnxruntime as ort

    from pairzoo.registry.providers import ONNX_FORMAT_ONLY, check_self_contained

    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif not isinstance(model, bytes):
        what, model = str(model), Path(model).read_bytes()
    check_self_contained(model, what)
    options = session_options(threads, optimize, spinning, inter_op, arena)
    options.add_session_config_entry(ONNX_FORMAT_ONLY, "ONNX")
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def split_batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pairzoo.data.tensors import split_pairs_np

    xa, xb = split_pairs_np(x)
    return np.ascontiguousarray(xa, dtype=np.float32), np.ascontiguousarray(xb, dtype=np.float32)


def logit_matrix(
    members: Sequence[Member],
    x: np.ndarray,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
) -> LogitMatrix:
    """Run every member over the uint8 pairs `x` (N, 28, 56); returns float32 (N, models).

    With ``workers > 1`` the members of one batch run concurrently in threads (onnxruntime
    releases the GIL); then per-model seconds overlap and only ``wall_seconds`` is additive.
    None: `default_workers`, one member per core.
    """
    n, m = len(x), len(members)
    if workers is None:
        workers = default_workers(m)
    logits = np.empty((n, m), dtype=np.float32)
    seconds = np.zeros(m)
    prep = 0.0
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    wall0 = time.perf_counter()
    try:
        for start in range(0, n, batch_size):
            t0 = time.perf_counter()
            xa, xb = split_batch(x[start : start + batch_size])
            prep += time.perf_counter() - t0
            feeds = {"xa": xa, "xb": xb}
            if pool is None:
                results = [_run(member, feeds) for member in members]
            else:
                results = list(pool.map(_run, members, [feeds] * len(members)))
            for j, (out, dt) in enumerate(results):
                logits[start : start + len(xa), j] = out
                seconds[j] += dt
    finally:
        if pool is not None:
            pool.shutdown()
    wall = time.perf_counter() - wall0
    return LogitMatrix(logits, seconds, prep, wall, batch_size)


def _run(member: Member, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    (out,) = member.session.run([member.output], feeds)
    return np.asarray(out, dtype=np.float32).reshape(-1), time.perf_counter() - t0
