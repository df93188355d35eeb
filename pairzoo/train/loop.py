"""One training epoch and batched prediction; loss and accuracy stay on the device until the end."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from pairzoo.train.augment import PairAugment, to_pair
from pairzoo.train.batches import DeviceSplit
from pairzoo.train.device import Runtime
from pairzoo.train.schedules import Schedule

if TYPE_CHECKING:
    from pairzoo.train.distributed import Group


@dataclass
class Stepper:
    """Everything one optimisation step needs."""

    model: torch.nn.Module
    loss_fn: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    scaler: torch.amp.GradScaler
    augment: PairAugment
    generator: torch.Generator  # augmentation randomness, on the compute device
    runtime: Runtime
    batch_size: int
    accum_steps: int = 1
    grad_clip: float = 0.0
    aux_weight: float = 0.0  # > 0 only when the data has digits and the model has forward_aux
    group: Group | None = None  # data-parallel ranks; None = this process trains alone
    ddp: torch.nn.Module | None = None  # DistributedDataParallel around the model, with a group

    @property
    def main(self) -> bool:
        """True for the process that writes the run: a lone one, or data-parallel rank 0."""
        return self.group is None or self.group.main


def split_inputs(pair: torch.Tensor, runtime: Runtime) -> tuple[torch.Tensor, torch.Tensor]:
    xa, xb = pair[:, 0:1], pair[:, 1:2]
    fmt = torch.channels_last if runtime.channels_last else torch.contiguous_format
    return xa.contiguous(memory_format=fmt), xb.contiguous(memory_format=fmt)


def train_epoch(
    s: Stepper, data: DeviceSplit, order: torch.Tensor, bar=None, refresh: int = 20
) -> dict:
    """One pass over `data` in `order`; returns mean loss, accuracy and mean gradient norm.

    Data-parallel: this rank's share of each global batch; loss and accuracy summed over ranks;
    the gradient norm is the synchronised (global) gradient's, the same on every rank.
    """
    s.model.train()
    params = [p for p in s.model.parameters() if p.requires_grad]
    device = s.runtime.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    norm_sum = torch.zeros((), device=device)
    seen = steps = 0
    n_batches = data.n_batches(s.batch_size)
    shard = (0, 1) if s.group is None else (s.group.rank, s.group.size)
    for i, (x_u8, y, digits, teacher) in enumerate(data.batches(order, s.batch_size, *shard)):
        step = (i + 1) % s.accum_steps == 0 or i + 1 == n_batches
        with _grad_sync(s, step):
            pair, y, digits, teacher = s.augment(to_pair(x_u8), y, digits, s.generator, teacher)
            loss, logits = _forward(s, pair, y, digits, teacher)
            s.scaler.scale(loss / s.accum_steps).backward()
        loss_sum += loss.detach() * len(y)
        correct += ((logits.detach() > 0) == (y > 0.5)).sum()
        seen += len(y)
        if step:
            norm_sum += optimizer_step(s, params)
            steps += 1
        if bar is not None:
            bar.update(1)
            if (i + 1) % refresh == 0 or i + 1 == n_batches:
                bar.set_postfix(
                    loss=f"{loss_sum.item() / seen:.4f}", acc=f"{correct.item() / seen:.3f}"
                )
    if s.group is not None:
        n = torch.tensor(float(seen), dtype=torch.float64, device=device)
        totals = torch.stack([loss_sum.double(), correct.double(), n])
        loss_sum, correct, seen = s.group.sum(totals).tolist()
        seen = int(seen)
    return {
        "loss": float(loss_sum) / seen,
        "accuracy": float(correct) / seen,
        "grad_norm": norm_sum.item() / max(steps, 1),
    }


def _grad_sync(s: Stepper, step: bool):
    # Accumulating micro-batches skip DDP's all-reduce; the one that steps reduces their sum.
    if s.ddp is None or step:
        return contextlib.nullcontext()
    return s.ddp.no_sync()


def _forward(s: Stepper, pair, y, digits, teacher=None):
    xa, xb = split_inputs(pair, s.runtime)
    with s.runtime.autocast():
        if s.ddp is not None:
            out = s.ddp(xa, xb, aux=s.aux_weight > 0)
            logits, digit_logits = out if s.aux_weight > 0 else (out, None)
        elif s.aux_weight > 0:
            logits, digit_logits = s.model.forward_aux(xa, xb)
        else:
            logits = s.model(xa, xb)
    logits = logits.float()
    if teacher is None:
        loss = s.loss_fn(logits, y)
    else:
        loss = s.loss_fn(logits, y, teacher_logits=teacher)
    if s.aux_weight > 0:
        aux = F.cross_entropy(digit_logits.float().reshape(-1, 10), digits.reshape(-1))
        loss = loss + s.aux_weight * aux
    return loss, logits


def optimizer_step(s: Stepper, params) -> torch.Tensor:
    """Unscale, measure and clip the gradient norm, step, zero the gradients, advance the schedule."""
    s.scaler.unscale_(s.optimizer)
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads)
    if s.grad_clip > 0:
        torch.nn.utils.clip_grads_with_norm_(params, s.grad_clip, norm)
    s.scaler.step(s.optimizer)
    s.scaler.update()
    s.optimizer.zero_grad(set_to_none=True)
    s.schedule.after_step()
    return norm.detach().float()


def predict_batches(
    model: torch.nn.Module, x_u8: torch.Tensor, runtime: Runtime, batch_size: int, forward=None
) -> list:
    """`forward(xa, xb)` (default: the model's forward) on each batch of uint8 pairs
    (N, 28, 56), in eval mode, without augmentation or gradients."""
    model.eval()
    forward = forward or model
    with torch.inference_mode(), runtime.autocast(training=False):
        return [
            forward(*split_inputs(to_pair(x_u8[start : start + batch_size]), runtime))
            for start in range(0, x_u8.shape[0], batch_size)
        ]


def predict_logits(
    model: torch.nn.Module, x_u8: torch.Tensor, runtime: Runtime, batch_size: int = 1024
) -> torch.Tensor:
    """Logits (N,) float32 on `x_u8`'s device for uint8 pairs (N, 28, 56); eval mode, no augmentation."""
    out = [logits.float() for logits in predict_batches(model, x_u8, runtime, batch_size)]
    return torch.cat(out) if out else torch.zeros(0, device=x_u8.device)


def predict_split(s: Stepper, x_u8: torch.Tensor, batch_size: int) -> torch.Tensor:
    """`predict_logits` of the stepper's model; data-parallel, each rank predicts its contiguous
    share and every rank gets all logits (after averaging BatchNorm running statistics)."""
    if s.group is None:
        return predict_logits(s.model, x_u8, s.runtime, batch_size)
    s.group.average_buffers(s.model)
    bounds = torch.linspace(0, x_u8.shape[0], s.group.size + 1).round().long().tolist()
    part = x_u8[bounds[s.group.rank] : bounds[s.group.rank + 1]]
    return s.group.gather(predict_logits(s.model, part, s.runtime, batch_size))
