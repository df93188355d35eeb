"""How well a model reads the digits themselves: per-digit accuracy and the confusion matrix.

A pair label is a function of the two digit classes, so a model's pair errors come from digits it
misreads; this report says which, from the digit classifier that the digit supervision trains.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from pairzoo.train.augment import to_pair
from pairzoo.train.device import Runtime
from pairzoo.train.loop import split_inputs

__all__ = ["digit_report"]

DIGITS = list(range(10))


def digit_report(
    model: torch.nn.Module,
    x_u8: torch.Tensor,
    digits: torch.Tensor,
    runtime: Runtime,
    batch_size: int,
) -> dict | None:
    """{accuracy, per_digit, confusion} of both images of every pair; None for a model without
    ``forward_aux`` (it reads no digits)."""
    if not callable(getattr(model, "forward_aux", None)):
        return None
    model.eval()
    read = []
    with torch.inference_mode(), runtime.autocast(training=False):
        for start in range(0, x_u8.shape[0], batch_size):
            xa, xb = split_inputs(to_pair(x_u8[start : start + batch_size]), runtime)
            read.append(model.forward_aux(xa, xb)[1].float().argmax(-1).cpu())
    truth = digits.cpu().numpy().reshape(-1)
    guess = torch.cat(read).numpy().reshape(-1)
    confusion = confusion_matrix(truth, guess, labels=DIGITS)
    shown = np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 6),
        "per_digit": [round(float(v), 6) for v in np.diag(confusion) / shown],
        "confusion": confusion.tolist(),
    }
