"""The run's loss: label smoothing is the loss's parameter, or smoothed targets for a loss
that has none."""

import torch
from torch import nn

from pairzoo.train.loss import SmoothedTargets, build_run_loss
from pairzoo.train.runconfig import RunConfig


class Recorder(nn.Module):
    needs_teacher = True

    def forward(self, logits, targets, teacher_logits=None):
        self.seen = (targets.clone(), teacher_logits)
        return targets.sum()


def test_a_loss_without_the_parameter_gets_smoothed_targets_and_keeps_needs_teacher():
    inner = Recorder()
    loss = SmoothedTargets(inner, 0.2)
    teacher = torch.tensor([3.0, -3.0])
    loss(torch.zeros(2), torch.tensor([1.0, 0.0]), teacher_logits=teacher)
    targets, given = inner.seen
    torch.testing.assert_close(targets, torch.tensor([0.9, 0.1]))
    assert given is teacher and loss.needs_teacher


def test_a_loss_with_the_parameter_smooths_alone():
    cfg = RunConfig.from_dict(
        {"loss": "bce", "loss_params": {"label_smoothing": 0.1}, "train": {"label_smoothing": 0.1}}
    )
    loss = build_run_loss(cfg)
    assert not isinstance(loss, SmoothedTargets) and loss.label_smoothing == 0.1
