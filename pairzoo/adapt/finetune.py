"""Fine-tuning one member on its labelled train pairs plus pseudo-labelled target pairs.

Each step takes a batch of labelled train pairs and one of pseudo-labelled target pairs and
forwards them together, so batch-norm sees both domains; the labelled half keeps the member's
own loss and digit supervision, which is what keeps its val accuracy from drifting. A member
that is not antisymmetric also learns swap consistency on target pairs, labelled or not: under
a rule whose label flips on a swap, f(a, b) and -f(b, a) must agree (a rule that keeps the
label: f(a, b) and f(b, a)). An antisymmetric member satisfies it exactly, so the term is left
out.

Batch-norm running statistics stay frozen while the weights move: updated on every small mixed
batch they became a noisy estimate of neither domain, which cost members points on both. At the
end they are kept ("source"), or re-estimated in one exact pass over labelled and target pairs
in equal numbers ("mixed") or over the target pairs alone ("target").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pairzoo.adapt.settings import FinetuneSettings
from pairzoo.atomic import write_json
from pairzoo.plugins import build_loss
from pairzoo.train.augment import to_pair
from pairzoo.train.checkpoint import cpu_state_dict, save_model
from pairzoo.train.device import Runtime
from pairzoo.train.loop import predict_logits

CPU = Runtime(torch.device("cpu"), None, channels_last=False)
BN_PAIRS = 4096  # per domain, for re-estimating batch-norm statistics


@dataclass
class Labelled:
    x: np.ndarray  # uint8 train pairs
    y: np.ndarray
    digits: np.ndarray | None


@dataclass
class FinetuneData:
    """The pairs one member is fine-tuned on."""

    labelled: Labelled  # the member's own labelled train pairs
    target_x: np.ndarray  # every target pair, uint8: swap consistency and batch-norm see them
    pseudo_index: np.ndarray  # the target rows that are pseudo-labelled
    pseudo_label: np.ndarray  # their labels, float32 in {0, 1}
    generated: Labelled | None = None  # labelled pairs made to look like the target, if any


def antisymmetric(model: torch.nn.Module) -> bool:
    return any(getattr(m, "antisymmetric", False) for m in model.modules())


def finetune(
    model: torch.nn.Module,
    config: dict[str, Any],
    data: FinetuneData,
    settings: FinetuneSettings,
    on_swap: str,
) -> dict[str, Any]:
    """Fine-tune `model` in place; returns what happened (steps, losses, seconds).

    Each step takes `settings.batch_size` pairs of each stream: labelled train pairs, generated
    pairs that look like the target (if any), pseudo-labelled target pairs (if any)."""
    labelled, generated, target_x = data.labelled, data.generated, data.target_x
    start = time.perf_counter()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    step = _Step(model, config, build_loss, labelled, generated, on_swap)
    b = settings.batch_size
    steps = _steps(settings, len(data.pseudo_index), 0 if generated is None else len(generated.x))
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=settings.lr,
        weight_decay=float(config.get("train", {}).get("weight_decay", 0.0)),
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 - s / max(steps, 1))
    model.train()
    for norm in _norms(model):
        norm.eval()  # running statistics frozen; their affine weights still learn
    draw = _Draw(data, settings.batch_size)
    sums = np.zeros(3)
    for _ in range(steps):
        streams, pseudo_rows, unlabelled_x = draw(rng)
        sup, pseudo, swap_term = step.losses(
            streams, pseudo_rows, unlabelled_x, rng, settings.swap_weight
        )
        optimizer.zero_grad(set_to_none=True)
        (sup + pseudo + settings.swap_weight * swap_term).backward()
        optimizer.step()
        schedule.step()
        sums += [sup.item(), pseudo.item(), swap_term.item()]

    if settings.bn != "source":
        recompute_bn(model, _bn_pairs(settings.bn, labelled.x, target_x, rng))
    model.eval()
    mean = sums / max(steps, 1)
    return {
        "steps": steps,
        "pairs_per_step": b * (1 + (generated is not None) + bool(len(data.pseudo_index))),
        "generated_pairs": 0 if generated is None else len(generated.x),
        "swap_consistency_loss": bool(step.consistency and settings.swap_weight > 0),
        "digit_supervision": step.aux,
        **{f"loss_{k}": round(float(v), 5) for k, v in zip(LOSSES, mean, strict=True)},
        "seconds": round(time.perf_counter() - start, 3),
    }


LOSSES = ("labelled", "pseudo", "swap")


class _Draw:
    """One step's rows: b of each labelled stream, b pseudo-labelled, b target pairs for swap
    consistency (drawn in that order, so a run is reproducible from its seed)."""

    def __init__(self, data: FinetuneData, b: int):
        self.labelled = [s for s in (data.labelled, data.generated) if s is not None]
        labels = pseudo_label_of(data.pseudo_index, data.pseudo_label)
        self.by_row = Labelled(data.target_x, labels, None)
        self.target_x, self.pseudo_index, self.b = data.target_x, data.pseudo_index, b

    def __call__(self, rng):
        streams = [(s, rng.integers(0, len(s.x), self.b)) for s in self.labelled]
        pseudo_rows = None
        if len(self.pseudo_index):
            rows = self.pseudo_index[rng.integers(0, len(self.pseudo_index), self.b)]
            pseudo_rows = (self.by_row, rows)
        return streams, pseudo_rows, self.target_x[rng.integers(0, len(self.target_x), self.b)]


def pseudo_label_of(index: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Labels by target row: `label[k]` at row `index[k]` (other rows are never drawn)."""
    out = np.zeros(int(index.max()) + 1 if len(index) else 0, np.float32)
    out[index] = label
    return out


def _steps(settings: FinetuneSettings, pseudo: int, generated: int) -> int:
    """`settings.epochs` passes over the larger of the pseudo-labelled and generated pairs."""
    pairs = max(pseudo, generated)
    return max(1, math.ceil(settings.epochs * pairs / settings.batch_size)) if pairs else 0


class _Step:
    """The loss of one step: the member's own loss (and digit supervision) on the labelled and
    generated pairs, the same loss on the pseudo-labelled ones, and swap consistency."""

    def __init__(self, model, config, build_loss, labelled, generated, on_swap):
        train = config.get("train", {})
        self.model, self.on_swap = model, on_swap
        self.loss_fn = _loss(config, build_loss)
        self.smoothing = float(train.get("label_smoothing", 0.0) or 0.0)
        self.aux_weight = float(train.get("aux_weight", 0.0) or 0.0)
        has_digits = labelled.digits is not None and (
            generated is None or generated.digits is not None
        )
        self.aux = self.aux_weight > 0 and has_digits and hasattr(model, "forward_aux")
        self.consistency = on_swap in ("flip", "keep") and not antisymmetric(model)

    def losses(self, labelled, pseudo_rows, unlabelled_x, rng, swap_weight):
        """`labelled`: (pairs, rows) of the labelled streams; `pseudo_rows` the pseudo-labelled."""
        n_sup = sum(len(rows) for _, rows in labelled)
        streams = [*labelled, *([pseudo_rows] if pseudo_rows is not None else [])]
        pair = to_pair(torch.from_numpy(np.concatenate([s.x[rows] for s, rows in streams])))
        y = torch.from_numpy(np.concatenate([s.y[rows] for s, rows in streams]).astype("f4"))
        pair, y, flip = _swap(pair, y, self.on_swap, rng)
        xa, xb = pair[:, 0:1], pair[:, 1:2]
        if self.aux:
            logits, digit_logits = self.model.forward_aux(xa, xb)
        else:
            logits = self.model(xa, xb)
        targets = y * (1 - self.smoothing) + 0.5 * self.smoothing
        sup = self.loss_fn(logits[:n_sup].float(), targets[:n_sup])
        pseudo = torch.zeros(())
        if n_sup < len(y):
            pseudo = self.loss_fn(logits[n_sup:].float(), targets[n_sup:])
        if self.aux:
            digits = torch.from_numpy(np.concatenate([s.digits[r] for s, r in labelled])).long()
            digits = torch.where(flip[:n_sup, None], digits.flip(1), digits)
            sup = sup + self.aux_weight * F.cross_entropy(
                digit_logits[:n_sup].float().reshape(-1, 10), digits.reshape(-1)
            )
        swap_term = torch.zeros(())  # no grad: .item() is safe
        if self.consistency and swap_weight > 0:
            swap_term = _swap_consistency(self.model, unlabelled_x, self.on_swap)
        return sup, pseudo, swap_term


def _loss(config: dict[str, Any], build_loss):
    """The member's own loss; plain BCE for one that learned from a teacher's logits."""
    loss = build_loss(config.get("loss", "bce"), config.get("loss_params") or {})
    if getattr(loss, "needs_teacher", False):
        return build_loss("bce", {})
    return loss


def _swap(pair: torch.Tensor, y: torch.Tensor, on_swap: str, rng: np.random.Generator):
    """Half the pairs swapped (a, b) -> (b, a), labels per the rule; returns the swap mask."""
    flip = torch.from_numpy(rng.random(len(y)) < 0.5)
    if on_swap not in ("flip", "keep"):
        return pair, y, torch.zeros_like(flip)
    pair = torch.where(flip[:, None, None, None], pair.flip(1), pair)
    if on_swap == "flip":
        y = torch.where(flip, 1.0 - y, y)
    return pair, y, flip


def _swap_consistency(model: torch.nn.Module, x_u8: np.ndarray, on_swap: str) -> torch.Tensor:
    """Mean squared gap between p(a, b) and the probability the swapped pair implies for it."""
    pair = to_pair(torch.from_numpy(x_u8))
    both = torch.cat([pair, pair.flip(1)])
    logits = model(both[:, 0:1], both[:, 1:2]).float()
    direct, swapped = logits.chunk(2)
    implied = -swapped if on_swap == "flip" else swapped
    return (torch.sigmoid(direct) - torch.sigmoid(implied)).pow(2).mean()


def _norms(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def _bn_pairs(bn: str, labelled_x: np.ndarray, target_x: np.ndarray, rng) -> np.ndarray:
    """The pairs batch-norm statistics are re-estimated on: up to BN_PAIRS target pairs, and for
    "mixed" as many labelled pairs beside them (more would cost time and change little)."""
    target = target_x[_sample(rng, len(target_x), BN_PAIRS)]
    if bn == "target":
        return target
    both = np.concatenate([labelled_x[_sample(rng, len(labelled_x), len(target))], target])
    # shuffled: batches of one domain each would leave the gap between the domains' means out
    # of the variance, which is estimated as the mean of the batches' variances
    return both[rng.permutation(len(both))]


def _sample(rng, n: int, k: int) -> np.ndarray:
    return np.sort(rng.choice(n, min(n, k), replace=False))


@torch.no_grad()
def recompute_bn(model: torch.nn.Module, x_u8: np.ndarray, batch_size: int = 256) -> None:
    """Batch-norm running statistics re-estimated as the plain mean over the pairs `x_u8`."""
    norms = _norms(model)
    if not norms or len(x_u8) == 0:
        return
    model.eval()
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
        m.train()
    for i in range(0, len(x_u8), batch_size):
        pair = to_pair(torch.from_numpy(x_u8[i : i + batch_size]))
        model(pair[:, 0:1], pair[:, 1:2])
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    model.eval()


def predict(model: torch.nn.Module, x_u8: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """float32 logits (N,) of `model` on uint8 pairs, in eval mode."""
    return predict_logits(model, torch.from_numpy(x_u8), CPU, batch_size).numpy()


def save_run(out: Path, model: torch.nn.Module, config: dict, metrics: dict) -> None:
    """A run directory that `pairzoo export` and `load_run` take: model.pt, config, metrics."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", config)
    save_model(out / "model.pt", cpu_state_dict(model), config)
    write_json(out / "metrics.json", metrics)  # last: "finished" only once the weights are there
