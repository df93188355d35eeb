"""How well a model reads the digits themselves: per-digit accuracy and the confusion matrix,
and, for generated data, the accuracy at each share of strokes the occlusions hid.

A pair label is a function of the two digit classes, so a model's pair errors come from digits it
misreads; this report says which, from the digit classifier that the digit supervision trains.
"""

from __future__ import annotations

import numpy as np
import torch

from pairzoo.data.occlusion import accuracy_by_hidden
from pairzoo.train.device import Runtime
from pairzoo.train.loop import predict_batches

__all__ = ["digit_report"]

DIGITS = list(range(10))


def digit_report(
    model: torch.nn.Module,
    x_u8: torch.Tensor,
    digits: torch.Tensor,
    runtime: Runtime,
    batch_size: int,
    hidden: np.ndarray | None = None,
) -> dict | None:
    """{accuracy, per_digit, confusion} of both images of every pair, and `by_hidden` where
    `hidden` (pairs, 2) gives each image's hidden stroke share; None for a model without
    ``forward_aux`` (it reads no digits)."""
    if not callable(getattr(model, "forward_aux", None)):
        return None
    read = predict_batches(
        model, x_u8, runtime, batch_size, lambda xa, xb: model.forward_aux(xa, xb)[1].argmax(-1)
    )
    truth = digits.cpu().numpy().reshape(-1)
    guess = torch.cat(read).cpu().numpy().reshape(-1)
    # imported here, as in pairzoo.train.metrics: scikit-learn doubles a training process's start
    from sklearn.metrics import confusion_matrix

    confusion = confusion_matrix(truth, guess, labels=DIGITS)
    shown = np.maximum(confusion.sum(axis=1), 1)
    report = {
        "accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 6),
        "per_digit": [round(float(v), 6) for v in np.diag(confusion) / shown],
        "confusion": confusion.tolist(),
    }
    if hidden is not None:
        report["by_hidden"] = accuracy_by_hidden(truth == guess, np.asarray(hidden).reshape(-1))
    return report
