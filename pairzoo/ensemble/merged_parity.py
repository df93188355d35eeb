"""The one-file ensemble's gate: the file against the Python path, at several batch sizes in a row.

The Python path is one onnxruntime session per member, then the LightGBM booster. The file runs
in one session, first at each size of pairzoo.runtime.batches.SEQUENCE (1, 7, 512, 1024,
300: a larger batch after a smaller one, then a smaller one), then over every val pair at the
export's batch size. Every run must give the Python path's labels and probabilities within the
tolerance; an onnxruntime error in any of them fails the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pairzoo.metrics import to_labels
from pairzoo.runtime.batches import SEQUENCE, batch_indices, split_batch
from pairzoo.runtime.gate import ONE_FILE_PROBABILITY, Gate, max_abs_diff


@dataclass
class Parity:
    """How the one-file ensemble compares with the separate sessions + LightGBM.

    ``pairs``, ``label_mismatches`` and ``max_abs_diff`` are over every val pair; ``batches``
    holds one {batch_size, label_mismatches, max_abs_diff} per run of the sequence, and
    ``errors`` what onnxruntime raised.
    """

    pairs: int
    label_mismatches: int
    max_abs_diff: float
    tolerance: float
    batches: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        every_pair = {"label_mismatches": self.label_mismatches, "max_abs_diff": self.max_abs_diff}
        return Gate(self.tolerance, [every_pair, *self.batches], self.errors).ok

    def describe(self) -> str:
        text = (
            f"{self.pairs} val pairs: {self.label_mismatches} label mismatches, max |probability "
            f"difference| {self.max_abs_diff:.3g} (allowed: 0 mismatches, {self.tolerance:g})"
        )
        if self.batches:
            runs = ", ".join(
                f"{b['batch_size']}: {b['label_mismatches']} / {b['max_abs_diff']:.3g}"
                for b in self.batches
            )
            text += f"; batches in one session (mismatches / max diff) {runs}"
        return text + "".join(f"; {e}" for e in self.errors)


def run_merged(session: Any, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(probability, label) of the one-file ensemble over uint8 pairs `x`."""
    probas, labels = [], []
    for start in range(0, len(x), batch_size):
        xa, xb = split_batch(x[start : start + batch_size])
        p, lab = session.run(["probability", "label"], {"xa": xa, "xb": xb})
        probas.append(p)
        labels.append(lab)
    return np.concatenate(probas).astype(np.float64), np.concatenate(labels).astype(np.int64)


def run_sequence(session: Any, x: np.ndarray, sizes: Sequence[int] = SEQUENCE) -> tuple:
    """([(size, indices, probability, label)] of each size in `sizes` the file ran at in one
    session, pairs `x[indices]`; [what the runtime raised at the others])."""
    runs, errors = [], []
    for size in sizes:
        idx = batch_indices(len(x), size)
        try:
            proba, label = run_merged(session, x[idx], size)
        except Exception as exc:  # runtimes raise their own untyped errors
            errors.append(f"batch {size}: the runtime failed ({type(exc).__name__}: {exc})")
            continue
        runs.append((size, idx, proba, label))
    return runs, errors


def check_parity(
    proba_ref: np.ndarray,
    proba: np.ndarray,
    label: np.ndarray,
    tolerance: float = ONE_FILE_PROBABILITY,
) -> Parity:
    return Parity(
        pairs=len(proba_ref),
        label_mismatches=int(np.sum(to_labels(proba_ref) != label)),
        max_abs_diff=max_abs_diff(proba_ref, proba),
        tolerance=tolerance,
    )


def gate_merged(
    session: Any,
    x: np.ndarray,
    proba_ref: np.ndarray,
    tolerance: float = ONE_FILE_PROBABILITY,
    batch_size: int = 256,
    sizes: Sequence[int] = SEQUENCE,
) -> Parity:
    """Run the file in `session` at each of `sizes`, then over all of `x`; compare with `proba_ref`."""
    runs, errors = run_sequence(session, x, sizes)
    batches = [
        {
            "batch_size": size,
            "label_mismatches": int(np.sum(to_labels(proba_ref[idx]) != label)),
            "max_abs_diff": max_abs_diff(proba_ref[idx], proba),
        }
        for size, idx, proba, label in runs
    ]
    try:
        proba, label = run_merged(session, x, batch_size)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        errors.append(f"all pairs at batch {batch_size}: onnxruntime failed ({exc})")
        proba, label = np.full(len(x), np.nan), np.full(len(x), -1, np.int64)
    parity = check_parity(proba_ref, proba, label, tolerance)
    parity.batches, parity.errors = batches, errors
    return parity
