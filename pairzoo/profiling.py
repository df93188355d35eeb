"""Model size and cost: parameter count and multiply-accumulates per pair."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["count_params", "count_macs"]


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (each shared tensor counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module) -> int:
    """Multiply-accumulates of Conv2d and Linear layers for one pair (batch of 1, eval mode).

    Counts whatever the forward pass runs, so a siamese tower is counted for both images and an
    antisymmetric head for both orders. Other operations (batch norm, activations, attention
    gating, pooling) are not counted; they are small next to the convolutions.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, inputs, output) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.zeros(1, 1, 28, 28)
            model(x, x.clone())
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total)
