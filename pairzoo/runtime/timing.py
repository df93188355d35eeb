"""How fast sessions run a fixed batch, measured side by side: the figures every speed choice uses.

Sessions run in turns, so each sees the same load on a shared CPU, and the best round counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pairzoo.runtime.batches import split_batch

ROUNDS = 9
BATCH = 64


def calibration_feeds(batch: int = BATCH, seed: int = 0) -> dict[str, np.ndarray]:
    """A fixed batch of pairs: convolution speed does not depend on the pixel values."""
    x = np.random.default_rng(seed).integers(0, 256, size=(batch, 28, 56), dtype=np.uint8)
    xa, xb = split_batch(x)
    return {"xa": xa, "xb": xb}


def measure(
    sessions: dict[str, Any],
    feeds: dict[str, np.ndarray] | None = None,
    rounds: int = ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Pairs/s of each session on `feeds`, run in turns (so both see the same load), best round."""
    feeds = feeds or calibration_feeds()
    pairs = len(next(iter(feeds.values())))
    for session in sessions.values():
        session.run(None, feeds)  # warm-up: first runs allocate and pick kernels
    best = dict.fromkeys(sessions, float("inf"))
    for _ in range(rounds):
        for name, session in sessions.items():
            start = clock()
            session.run(None, feeds)
            best[name] = min(best[name], clock() - start)
    return {name: pairs / max(seconds, 1e-12) for name, seconds in best.items()}
