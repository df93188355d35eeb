"""What the generator's occlusions hid of each digit: the yardstick of how readable it left them.

`data make` writes `OCCLUSION_FILE` beside the labelled splits: per split, float32 (pairs, 2), the
share of each digit's strokes (pixels at least half bright in the jittered digit,
pairzoo.data.corruption.STROKE) that the occlusion rectangles and lines blacked out. The test
splits get none: it would tell which of their pairs are hard. The trainer's digit report reads it
to say how well a model reads digits at each share hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.corruption import STROKE
from pairzoo.data.npz import read_arrays
from pairzoo.errors import DataError

OCCLUSION_FILE = "occlusion.npz"
# Shares hidden that meta.json counts pairs above (the worse digit of each pair).
HIDDEN_ABOVE = (0.5, 0.75, 0.9)
# The bins of the digit report: (low, high], the first from 0 inclusive.
HIDDEN_BINS = (0.0, 0.5, 0.75, 0.9, 1.0)


def occlusion_summary(covered: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Per labelled split: pairs, the mean hidden share of a digit, and the share of pairs whose
    worse digit has more than each of HIDDEN_ABOVE of its strokes hidden."""
    splits = {}
    for split, hid in covered.items():
        worst = hid.max(axis=1)
        splits[split] = {
            "pairs": len(hid),
            "mean_hidden": round(float(hid.mean()), 4) if len(hid) else 0.0,
            "pairs_hidden_above": {
                f"{t:g}": round(float(np.mean(worst > t)), 4) if len(hid) else 0.0
                for t in HIDDEN_ABOVE
            },
        }
    return {"file": OCCLUSION_FILE, "stroke_threshold": STROKE, "splits": splits}


def read_hidden(data_dir: str | Path, split: str, pairs: int) -> np.ndarray | None:
    """The hidden shares of `split`, float32 (pairs, 2); None where the data has no such file
    (data not made by `data make`). DataError naming the file and key if it does not fit."""
    path = Path(data_dir) / OCCLUSION_FILE
    if not path.is_file():
        return None
    arrays = read_arrays(path, [split])
    if split not in arrays:
        raise DataError(f"{path}: key '{split}' is missing, expected float32 ({pairs}, 2)")
    hidden = arrays[split]
    if hidden.dtype != np.float32 or hidden.shape != (pairs, 2):
        raise DataError(
            f"{path}: key '{split}' is {hidden.dtype} {hidden.shape}, expected float32 "
            f"({pairs}, 2), one row per pair of {split}.npz (made with other pairs?)"
        )
    if not np.all((hidden >= 0) & (hidden <= 1)):
        raise DataError(f"{path}: key '{split}' holds values outside [0, 1]")
    return hidden


def accuracy_by_hidden(correct: np.ndarray, hidden: np.ndarray) -> list[dict[str, Any]]:
    """Digit accuracy per bin of HIDDEN_BINS: `correct` and `hidden` one value per digit."""
    rows = []
    for low, high in zip(HIDDEN_BINS[:-1], HIDDEN_BINS[1:], strict=True):
        inside = (hidden > low) & (hidden <= high) if low > 0 else hidden <= high
        n = int(inside.sum())
        accuracy = round(float(correct[inside].mean()), 6) if n else None
        rows.append({"hidden": f"{low:g}-{high:g}", "digits": n, "accuracy": accuracy})
    return rows
