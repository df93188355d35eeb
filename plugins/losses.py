"""Builtin losses on pair logits: binary cross-entropy, focal loss and distillation.

All take ``label_smoothing`` ``ls``: targets ``y`` become ``y * (1 - ls) + 0.5 * ls``. With
``s`` the student logits, ``y`` the (smoothed) targets, ``p = sigmoid(s)`` and means over the batch:

- ``bce``:     ``BCE(s, y) = -[y log p + (1 - y) log(1 - p)]``
- ``focal``:   ``alpha * (1 - p_t) ** gamma * BCE(s, y)`` with ``p_t = p y + (1 - p)(1 - y)``;
  ``alpha`` scales the whole loss (the original's ``alpha = 1``), it is not a class weight.
- ``distill``: ``alpha * T**2 * BCE(sigmoid(s / T), sigmoid(t / T)) + (1 - alpha) * BCE(s, y)``
  with ``t`` the teacher logits. The soft term is a cross-entropy against the teacher's
  softened probabilities (its minimum is the teacher's entropy, not 0; its gradient equals the
  KL divergence's); ``T**2`` keeps the soft gradients on the scale of the hard ones.
"""

import torch
import torch.nn.functional as F
from torch import nn

from pairzoo.hookspecs import hookimpl

__all__ = ["BCELoss", "FocalLoss", "DistillLoss"]


def _smooth(targets: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    return targets * (1.0 - label_smoothing) + 0.5 * label_smoothing


def _check_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")


class BCELoss(nn.Module):
    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        _check_smoothing(label_smoothing)
        self.label_smoothing = label_smoothing

    def forward(self, logits, targets, teacher_logits=None):
        y = _smooth(targets.float(), self.label_smoothing)
        return F.binary_cross_entropy_with_logits(logits, y)


class FocalLoss(nn.Module):
    def __init__(
        self, alpha: float = 1.0, gamma: float = 2.0, label_smoothing: float = 0.0
    ) -> None:
        super().__init__()
        _check_smoothing(label_smoothing)
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha!r}")
        if gamma < 0:
            raise ValueError(f"gamma must be at least 0, got {gamma!r}")
        self.alpha, self.gamma, self.label_smoothing = alpha, gamma, label_smoothing

    def forward(self, logits, targets, teacher_logits=None):
        y = _smooth(targets.float(), self.label_smoothing)
        bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        p = torch.sigmoid(logits)
        p_t = p * y + (1 - p) * (1 - y)
        return (self.alpha * (1 - p_t) ** self.gamma * bce).mean()


class DistillLoss(nn.Module):
    needs_teacher = True  # the trainer refuses to start without teacher logits

    def __init__(
        self, temperature: float = 3.0, alpha: float = 0.7, label_smoothing: float = 0.0
    ) -> None:
        super().__init__()
        _check_smoothing(label_smoothing)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        self.temperature, self.alpha, self.label_smoothing = temperature, alpha, label_smoothing

    def forward(self, logits, targets, teacher_logits=None):
        if teacher_logits is None:
            raise ValueError(
                "the distill loss needs teacher_logits (the teacher's logits per pair)"
            )
        t = self.temperature
        y = _smooth(targets.float(), self.label_smoothing)
        soft_targets = torch.sigmoid(teacher_logits.detach().float() / t)
        soft = F.binary_cross_entropy_with_logits(logits / t, soft_targets)
        hard = F.binary_cross_entropy_with_logits(logits, y)
        return self.alpha * t * t * soft + (1 - self.alpha) * hard


# `pairzoo tune` searches label smoothing in [0, 0.2] (widened to hold the run's value).
TUNABLE = {"label_smoothing": {"low": 0.0, "high": 0.2}}


@hookimpl
def register_losses(register):
    register(
        "bce",
        BCELoss,
        params={"label_smoothing": 0.0},
        description="binary cross-entropy",
        tunable=TUNABLE,
    )
    register(
        "focal",
        FocalLoss,
        params={"alpha": 1.0, "gamma": 2.0, "label_smoothing": 0.0},
        description="focal loss: alpha * (1 - p_t)^gamma * BCE",
        tunable=TUNABLE,
    )
    register(
        "distill",
        DistillLoss,
        params={"temperature": 3.0, "alpha": 0.7, "label_smoothing": 0.0},
        description="alpha * T^2 * BCE(sigmoid(s/T), sigmoid(t/T)) + (1 - alpha) * BCE(s, y)",
        tunable=TUNABLE,
    )
