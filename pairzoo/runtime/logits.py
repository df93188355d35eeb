"""Batched onnxruntime inference of several pair models: a (pairs x models) logit matrix.

Each batch of pairs is split into ``xa``/``xb`` once and fed to every model; the time spent in
each model's ``session.run`` is recorded so throughput and per-model latency come from the
same pass.
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


def _run(member: Runnable, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    (out,) = member.session.run([member.output], feeds)
    return np.asarray(out, dtype=np.float32).reshape(-1), time.perf_counter() - t0


def session_logits(session: Any, x: np.ndarray, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Logits of one pair model's `session` on uint8 pairs `x`, float32 (N,)."""
    return logit_matrix([_Single(session)], x, batch_size, workers=1).logits[:, 0]


class _Single:
    def __init__(self, session: Any) -> None:
        self.session, self.output = session, session.get_outputs()[0].name
