"""onnxruntime sessions on the CPU: the options every pairzoo session runs with, and how many run at once.

Every model is handed over as bytes once `pairzoo.runtime.safety.check_self_contained` accepts
them, and parsed as ONNX only, so what onnxruntime loads is what was checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import onnxruntime as ort

from pairzoo.runtime.safety import ONNX_FORMAT_ONLY, check_self_contained

# Measured (benchmarks/bench_ensemble.py) on the 2-core reference CPU, shared with other work,
# for three width-0.25 builtin models (18-40 M MACs per pair): one intra-op thread per session
# and batches of 64 pairs were fastest for fp32 and int8 (fp32: 507 pairs/s at batch 64, 413 at
# 1024; a second intra-op thread 425, with spinning 205; members in two Python threads 467).
DEFAULT_THREADS = 1


def default_workers(members: int, threads: int = DEFAULT_THREADS) -> int:
    """How many members run at once: one per usable core, each session on `threads` intra-op
    threads. On a quiet 2-core EPYC (avx512_vnni) the eleven-member zoo ran 1.87x faster in two
    workers than in one (385 against 206 pairs/s, `python -m benchmarks ensemble`)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(members, (cores or 1) // max(threads, 1)))


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
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif not isinstance(model, bytes):
        what, model = str(model), Path(model).read_bytes()
    check_self_contained(model, what)
    options = session_options(threads, optimize, spinning, inter_op, arena)
    options.add_session_config_entry(ONNX_FORMAT_ONLY, "ONNX")
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
