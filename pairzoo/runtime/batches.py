"""Pairs split into the images a model takes, and the batch sizes every gate runs its file at, in order.

onnxruntime plans its buffers, and re-uses them, from the shapes a file declares. A file whose
declared shapes are wrong (a quantized file carries the guesses of ONNX shape inference; a merged
one, the shapes of every member) can pass at the first batch size it sees and fail, or compute
something else, at the next: a larger batch after a smaller one, and a smaller after a larger,
show it. So the export's parity gate, the int8 gate and the one-file ensemble's gate each run
their file at every size of SEQUENCE, in this order, in one session.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.tensors import split_pairs_np
from pairzoo.runtime.gate import max_abs_diff, within

SEQUENCE = (1, 7, 512, 1024, 300)


def split_batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 pairs (N, 28, 56) as the contiguous float32 (xa, xb) an ONNX pair model takes."""
    xa, xb = split_pairs_np(x)
    return np.ascontiguousarray(xa, dtype=np.float32), np.ascontiguousarray(xb, dtype=np.float32)


def batch_indices(n: int, size: int) -> np.ndarray:
    """Indices of a batch of `size` out of `n` pairs: 0, 1, ..., repeating the pairs when n < size."""
    if n < 1:
        raise ValueError("no pairs to run the batch sequence on")
    return np.arange(size) % n


def sequence_problems(
    session, x: np.ndarray, reference: np.ndarray, tolerance: float, sizes=SEQUENCE
) -> list[str]:
    """What goes wrong when a pair model's `session` runs uint8 pairs `x` at each of `sizes`.

    `reference` holds the model's logits of `x` from another session; each batch must match it
    within `tolerance` (and run at all). An empty list means the file passed.
    """
    problems = []
    for size in sizes:
        idx = batch_indices(len(x), size)
        xa, xb = split_batch(x[idx])
        try:
            (out,) = session.run(["logit"], {"xa": xa, "xb": xb})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            problems.append(f"batch {size}: onnxruntime failed ({type(exc).__name__}: {exc})")
            continue
        out = np.asarray(out, np.float64).reshape(-1)
        if out.shape != (size,):
            problems.append(f"batch {size}: {out.size} logits, expected {size}")
            continue
        worst = max_abs_diff(out, np.asarray(reference, np.float64)[idx])
        if not within(worst, tolerance):
            problems.append(
                f"batch {size}: max |logit difference| {worst:.3g} from the same pairs at "
                f"another batch size (allowed {tolerance:g})"
            )
    return problems
