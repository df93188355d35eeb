"""The run's loss, built from its config: label smoothing is the loss's own parameter.

`resolve_config` hands ``train.label_smoothing`` to a loss that declares ``label_smoothing``;
a loss that declares none learns from targets smoothed here, the same way the builtins smooth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from pairzoo.plugins import build_loss
from pairzoo.train.resolve import loss_params_from_train

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig


class SmoothedTargets(nn.Module):
    """`loss` given targets ``y (1 - ls) + ls / 2``: label smoothing for a loss without it."""

    def __init__(self, loss: nn.Module, label_smoothing: float) -> None:
        super().__init__()
        self.loss, self.label_smoothing = loss, label_smoothing
        self.needs_teacher = getattr(loss, "needs_teacher", False)

    def forward(self, logits, targets, teacher_logits=None) -> torch.Tensor:
        ls = self.label_smoothing
        targets = targets * (1 - ls) + 0.5 * ls
        if teacher_logits is None:
            return self.loss(logits, targets)
        return self.loss(logits, targets, teacher_logits=teacher_logits)


def build_run_loss(cfg: RunConfig) -> nn.Module:
    loss = build_loss(cfg.loss.name, cfg.loss.params)
    smoothing = loss_params_from_train(cfg.train.to_dict()).get("label_smoothing")
    if not smoothing or "label_smoothing" in cfg.loss.params:
        return loss
    return SmoothedTargets(loss, smoothing)
