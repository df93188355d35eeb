"""The model as DistributedDataParallel trains it: forward and forward_aux both through DDP's
forward, BatchNorm optionally synchronised, parameters the training forward leaves out found."""

from __future__ import annotations

import inspect
import os

import torch
from torch import nn

from pairzoo.errors import ConfigError

SYNC_BN_ENV = "PAIRZOO_SYNC_BN"


class PairForward(nn.Module):
    """What DDP wraps: `forward(xa, xb, aux)` is the model's forward or its forward_aux.

    DDP synchronises gradients only for what runs through its own forward, so the digit head's
    path must pass through it too.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, xa: torch.Tensor, xb: torch.Tensor, aux: bool = False):
        return self.model.forward_aux(xa, xb) if aux else self.model(xa, xb)


def sync_batchnorm_requested() -> bool:
    return os.environ.get(SYNC_BN_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def convert_batchnorm(model: nn.Module, cuda: bool) -> nn.Module:
    """SyncBatchNorm when $PAIRZOO_SYNC_BN asks for it (CUDA only); else the model unchanged."""
    if not sync_batchnorm_requested():
        return model
    if not cuda:
        raise ConfigError(
            f"${SYNC_BN_ENV}: SyncBatchNorm needs CUDA (DDP refuses it on CPU modules); unset it "
            "to keep per-process batch statistics"
        )
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def wrap(model: nn.Module, device: torch.device, aux: bool) -> nn.Module:
    """`model` inside DistributedDataParallel (via PairForward); the bare model stays the one saved."""
    from torch.nn.parallel import DistributedDataParallel

    # Running statistics are averaged before evaluation instead of rank 0's broadcast at every
    # forward (torch before 2.13 names the switch broadcast_buffers).
    names = inspect.signature(DistributedDataParallel).parameters
    no_sync = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
    return DistributedDataParallel(
        PairForward(model),
        device_ids=[device.index] if device.type == "cuda" else None,
        find_unused_parameters=_has_unused_parameters(model, device, aux),
        **{no_sync: False},
    )


def _has_unused_parameters(model: nn.Module, device: torch.device, aux: bool) -> bool:
    """Whether the training forward leaves a parameter out (a digit head when aux is off).

    Probed in eval mode on two blank pairs: no running statistics or random numbers are used.
    """
    was_training = model.training
    model.eval()
    try:
        x = torch.zeros(2, 1, 28, 28, device=device)
        out = PairForward(model)(x, x, aux)
        total = out[0].sum() + out[1].sum() if aux else out.sum()
        params = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(total, params, allow_unused=True)
    finally:
        model.train(was_training)
    return any(g is None for g in grads)
