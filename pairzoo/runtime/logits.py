"""Batched onnxruntime inference of several pair models: a (pairs x models) logit matrix.

Each batch of pairs is split into ``xa``/``xb`` once and fed to every model; the time spent in
each model's ``session.run`` is recorded so throughput and per-model latency come from the
same pass. Members of one shape may run fused, as one session with a column per member
(pairzoo.ensemble.fused_members); its time is shared out evenly among its members.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pairzoo.runtime.batches import split_batch
from pairzoo.runtime.sessions import default_workers

# Batches of 64 pairs were fastest for fp32 and int8 (pairzoo.runtime.sessions.DEFAULT_THREADS).
DEFAULT_BATCH = 64


class Runnable(Protocol):
    """What the logit matrix runs: a session and the name of its logit output."""

    session: Any
    output: str


class Fused(Protocol):
    """Several members in one session: its output (N, len(columns)) fills those columns."""

    session: Any
    output: str
    columns: Sequence[int]


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


def logit_matrix(
    members: Sequence[Runnable],
    x: np.ndarray,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    fused: Sequence[Fused] = (),
) -> LogitMatrix:
    """Run every member over the uint8 pairs `x` (N, 28, 56); returns float32 (N, models).

    With ``workers > 1`` the members of one batch run concurrently in threads (onnxruntime
    releases the GIL); then per-model seconds overlap and only ``wall_seconds`` is additive.
    None: `default_workers`, one per session run. A member in one of the `fused` groups' columns
    runs there, not on its own.
    """
    n, m = len(x), len(members)
    jobs = _jobs(members, fused)
    if workers is None:
        workers = default_workers(len(jobs))
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
                results = [_run(job, feeds) for job, _ in jobs]
            else:
                results = list(pool.map(_run, [job for job, _ in jobs], [feeds] * len(jobs)))
            for (_, columns), (out, dt) in zip(jobs, results, strict=True):
                logits[start : start + len(xa), columns] = out.reshape(len(xa), len(columns))
                seconds[columns] += dt / len(columns)
    finally:
        if pool is not None:
            pool.shutdown()
    wall = time.perf_counter() - wall0
    return LogitMatrix(logits, seconds, prep, wall, batch_size)


def _jobs(members: Sequence[Runnable], fused: Sequence[Fused]) -> list[tuple[Runnable, list[int]]]:
    """Each session to run per batch and the matrix columns its output fills: fused groups
    first, then every member no group holds."""
    held = [j for group in fused for j in group.columns]
    if len(set(held)) != len(held) or not all(0 <= j < len(members) for j in held):
        raise ValueError(f"fused groups must hold distinct members of 0..{len(members) - 1}")
    alone = [(member, [j]) for j, member in enumerate(members) if j not in set(held)]
    return [(group, list(group.columns)) for group in fused] + alone


def _run(job: Runnable, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    (out,) = job.session.run([job.output], feeds)
    return np.asarray(out, dtype=np.float32), time.perf_counter() - t0


def session_logits(session: Any, x: np.ndarray, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Logits of one pair model's `session` on uint8 pairs `x`, float32 (N,)."""
    return logit_matrix([_Single(session)], x, batch_size, workers=1).logits[:, 0]


class _Single:
    def __init__(self, session: Any) -> None:
        self.session, self.output = session, session.get_outputs()[0].name
