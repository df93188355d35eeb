"""The CPU tensor layout: channels_last unless the model has a layer whose backward is unsafe."""

import torch

from pairzoo.plugins import build_architecture
from pairzoo.train.device import Runtime, fit_layout

TUNED = Runtime(torch.device("cpu"), None, channels_last=True, fused_optimizer=True)


def resnet(width_mult):
    params = {"layers": [1, 1], "width_mult": width_mult, "feat_dim": 16, "heads": ["concat"]}
    return build_architecture("resnet", params)


def test_a_strided_shortcut_over_few_channels_trains_contiguous():
    # width 1/16: the second stage's 1x1 stride-2 shortcut reads 4 channels
    assert fit_layout(TUNED, resnet(0.0625)).channels_last is False


def test_wider_towers_keep_channels_last():
    assert fit_layout(TUNED, resnet(0.125)) is TUNED


def test_a_model_with_the_unsafe_layer_trains_a_step():
    model = resnet(0.0625)
    runtime = fit_layout(TUNED, model)
    fmt = torch.channels_last if runtime.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    xa, xb = (torch.rand(64, 1, 28, 28).contiguous(memory_format=fmt) for _ in range(2))
    model(xa, xb).sum().backward()  # crashed the process on channels_last (AVX2-only CPUs)
    assert all(p.grad is not None for p in model.tower.parameters())
