"""What every gate compares, and how far apart its figures may be: one place for the tolerances.

A gate runs a file pairzoo wrote against a reference (PyTorch, the separate members, the same
file at another batch size) and refuses the file unless every run ran and every difference is
within its tolerance. NaN never passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# max |logit| between an exported file and the PyTorch model it came from
EXPORT_LOGITS = 1e-4
# max |logit| between the same pairs run at different batch sizes in one session
BATCH_SEQUENCE = 1e-4
# max |probability| between the one-file ensemble and its members' sessions + LightGBM
ONE_FILE_PROBABILITY = 1e-5
# a faster runtime's outputs against onnxruntime's defaults, relative to 1 + |output|
# (bf16 is gated on decisions instead: pairzoo.runtime.choice.BF16_FLIPS)
RUNTIME_OUTPUTS = {"fp32": 1e-4}


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a - b| in float64; NaN if any difference is not finite; 0 for no values."""
    if not len(a):
        return 0.0
    diff = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return float(diff.max()) if np.all(np.isfinite(diff)) else float("nan")


def within(diff: float, tolerance: float) -> bool:
    return diff <= tolerance  # NaN compares False: it fails


@dataclass
class Gate:
    """Runs of one file against a reference: one row per run, and the errors that stopped any.

    Each row holds ``batch_size`` and ``max_abs_diff`` (and ``label_mismatches`` where labels are
    compared). The gate passes when nothing failed to run and every row is within `tolerance`.
    """

    tolerance: float
    batches: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(_row_ok(r, self.tolerance) for r in self.batches)


def _row_ok(row: dict, tolerance: float) -> bool:
    return row.get("label_mismatches", 0) == 0 and within(row["max_abs_diff"], tolerance)
