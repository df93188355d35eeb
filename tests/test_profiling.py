"""Parameter and MAC counts against hand-computed numbers."""

import torch
from torch import nn

from pairzoo.profiling import count_macs, count_params


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)  # 4 * 9 = 36 weights + 4 biases
        self.fc = nn.Linear(4, 1)  # 4 weights + 1 bias

    def forward(self, xa, xb):
        x = self.conv(torch.cat([xa, xb]))
        z = self.fc(x.mean(dim=(2, 3)))[:, 0]
        return z[: xa.shape[0]] - z[xa.shape[0] :]


def test_counts_match_hand_computation():
    model = Tiny().train()
    assert count_params(model) == 36 + 4 + 4 + 1
    # per pair: the conv runs on 2 images, 28*28*4 outputs each with 1*3*3 MACs; the linear on 2
    assert count_macs(model) == 2 * 28 * 28 * 4 * 9 + 2 * 4
    assert model.training  # the mode is restored


def test_frozen_parameters_can_be_left_out():
    model = Tiny()
    model.conv.requires_grad_(False)
    assert count_params(model, trainable_only=True) == 5
