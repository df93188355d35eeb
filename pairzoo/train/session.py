"""The pieces of one training run, built from a resolved config through the plugin manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from pairzoo.data.format import load_data_dir
from pairzoo.data.occlusion import read_hidden
from pairzoo.errors import ConfigError
from pairzoo.plugins import build_architecture, get_label_rule
from pairzoo.train.augment import PairAugment
from pairzoo.train.batches import DeviceSplit
from pairzoo.train.checkpoint import cpu_state_dict, restore_rng, rng_state
from pairzoo.train.ddp import convert_batchnorm, wrap
from pairzoo.train.device import Runtime, fit_layout
from pairzoo.train.early_stopping import EarlyStopping
from pairzoo.train.fresh_train import FreshTrain, choose_pairs
from pairzoo.train.loop import Stepper
from pairzoo.train.loss import build_run_loss
from pairzoo.train.schedules import Schedule
from pairzoo.train.warm_start import load_initial_weights

if TYPE_CHECKING:
    from pairzoo.train.distributed import Group
    from pairzoo.train.runconfig import RunConfig

AUGMENT_SEED = 1_000_003  # offset of the augmentation stream's seed from the run's seed


@dataclass
class Splits:
    train: DeviceSplit
    val: DeviceSplit
    val_y: np.ndarray
    test: DeviceSplit | None  # test_public, when its labels are known
    test_y: np.ndarray | None
    fresh: FreshTrain | None = None  # new train pairs every epoch (train.pairs fresh or auto)
    pairs_note: str | None = None  # why train.pairs auto fell back to fixed
    val_hidden: np.ndarray | None = None  # (pairs, 2) stroke shares hidden (pairzoo.data.occlusion)


@dataclass
class Session:
    stepper: Stepper
    np_rng: np.random.Generator  # epoch orders
    early: EarlyStopping
    epoch: int = 0  # epochs completed
    history: list[dict] = field(default_factory=list)
    train_time_s: float = 0.0
    best_state: dict | None = None
    init_note: str = ""  # what train.init_from left at its initialisation, for the log

    def state_dict(self) -> dict:
        s = self.stepper
        return {
            "epoch": self.epoch,
            "model": cpu_state_dict(s.model),
            "best_state": self.best_state,
            "optimizer": s.optimizer.state_dict(),
            "schedule": s.schedule.state_dict(),
            "scaler": s.scaler.state_dict(),
            "early_stopping": self.early.state_dict(),
            "rng": rng_state(self.np_rng, s.generator),
            "history": self.history,
            "train_time_s": self.train_time_s,
        }

    def rng_state(self) -> dict:
        return rng_state(self.np_rng, self.stepper.generator)

    def load_state_dict(self, state: dict, rank: int = 0, seed: int = 0) -> None:
        """Restore a checkpoint; rank r > 0 of a data-parallel run takes its own random streams
        (`rng_ranks`), or fresh ones from `seed`, its rank and the epoch if the checkpoint has
        none for it (it was written by fewer processes)."""
        s = self.stepper
        s.model.load_state_dict(state["model"])
        s.optimizer.load_state_dict(state["optimizer"])
        s.schedule.load_state_dict(state["schedule"])
        s.scaler.load_state_dict(state["scaler"])
        self.early.load_state_dict(state["early_stopping"])
        ranks = state.get("rng_ranks") or [state["rng"]]
        if rank < len(ranks):
            restore_rng(ranks[rank], self.np_rng, s.generator)
        else:
            fresh = [seed, rank, int(state["epoch"])]
            torch.manual_seed(int(np.random.SeedSequence(fresh).generate_state(1)[0]))
            s.generator.manual_seed(int(np.random.SeedSequence([*fresh, 1]).generate_state(1)[0]))
        # The epoch order is the same on every rank: always rank 0's.
        self.np_rng.bit_generator.state = state["rng"]["numpy"]
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        self.train_time_s = float(state["train_time_s"])
        self.best_state = state["best_state"]


def load_splits(cfg: RunConfig, runtime: Runtime, teacher_logits=None) -> Splits:
    """train (subset applied), val and labelled test_public as whole tensors on the device.

    `teacher_logits`, if given, holds one teacher logit per train pair (before the subset).
    """
    data_dir, dev = Path(cfg.data.path), runtime.device
    train, val = load_data_dir(data_dir, "train"), load_data_dir(data_dir, "val")
    indices = train_subset(cfg, len(train.y))
    if teacher_logits is not None and np.shape(teacher_logits) != (len(train.y),):
        raise ConfigError(
            f"teacher logits: expected one per train pair of {data_dir}, shape ({len(train.y)},), "
            f"found shape {np.shape(teacher_logits)}"
        )
    fresh, note = choose_pairs(cfg, teacher_logits is not None)
    fresh = FreshTrain(cfg, fresh_pairs_per_epoch(cfg, len(train.y)), dev) if fresh else None
    test = None
    if (data_dir / "test_public.npz").exists():
        test = load_data_dir(data_dir, "test_public")
        test = test if test.y is not None else None
    return Splits(
        train=fresh.split(1)
        if fresh
        else DeviceSplit.from_arrays(
            train.x, train.y, train.digits, dev, indices, teacher=teacher_logits
        ),
        val=DeviceSplit.from_arrays(val.x, digits=val.digits, device=dev),
        val_y=np.asarray(val.y),
        test=None if test is None else DeviceSplit.from_arrays(test.x, device=dev),
        test_y=None if test is None else np.asarray(test.y),
        fresh=fresh,
        pairs_note=note,
        val_hidden=read_hidden(data_dir, "val", len(val.x)),
    )


def fresh_pairs_per_epoch(cfg: RunConfig, n_train: int) -> int:
    """Pairs a fresh epoch makes: `subset` where set, even beyond train.npz's `n_train` (the
    generator makes as many as asked), else as many as train.npz holds."""
    return cfg.train.subset or n_train


def train_subset(cfg: RunConfig, n: int) -> np.ndarray | None:
    """Indices of the `n` train pairs a run of config `cfg` trains on; None for all."""
    return _subset(n, cfg.train.subset, cfg.train.subset_mode, cfg.seed)


def _subset(n: int, size: int, mode: str, seed: int) -> np.ndarray | None:
    if not size or size >= n:
        return None
    if mode == "first":
        return np.arange(size)
    return np.sort(np.random.default_rng([seed, 1]).choice(n, size=size, replace=False))


def build_session(
    cfg: RunConfig, runtime: Runtime, train: DeviceSplit, group: Group | None = None
) -> Session:
    """The run's model, optimiser, schedule and random streams; with a data-parallel `group`,
    the model is wrapped in DDP and rank r's dropout and augmentation streams are seeded with
    seed + r (rank 0's are a lone process's)."""
    t, seed = cfg.train, cfg.seed
    rank = 0 if group is None else group.rank
    torch.manual_seed(seed)
    model = build_architecture(cfg.model.arch, cfg.model.params)
    init_note = ""
    if t.init_from:
        init_note = load_initial_weights(
            model, t.init_from, cfg.init_sha256 or "", strict=t.init_strict
        )
    if group is not None:
        model = convert_batchnorm(model, runtime.cuda)
    model = model.to(runtime.device)
    runtime = fit_layout(runtime, model)
    if runtime.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(
        _param_groups(model, t.weight_decay), lr=t.lr, fused=runtime.fused_optimizer or None
    )
    steps_per_epoch = -(-train.n_batches(t.batch_size) // t.accum_steps)
    generator = torch.Generator(device=runtime.device)
    generator.manual_seed(seed + AUGMENT_SEED + rank)
    rule = get_label_rule(cfg.data.rule)
    _check_symmetry(cfg.model.arch, model, rule)
    aux = callable(getattr(model, "forward_aux", None)) and train.digits is not None
    ddp = None
    if group is not None:
        ddp = wrap(model, runtime.device, aux and t.aux_weight > 0)
    stepper = Stepper(
        model=model,
        loss_fn=build_run_loss(cfg).to(runtime.device),
        optimizer=optimizer,
        schedule=Schedule(t.schedule, optimizer, t.lr, steps_per_epoch * t.epochs),
        scaler=torch.amp.GradScaler(
            runtime.device.type, enabled=runtime.amp_dtype == torch.float16
        ),
        augment=PairAugment(
            t.rotate,
            t.translate,
            tuple(t.crop_scale),
            t.augment,
            t.swap,
            rule.on_swap,
        ),
        generator=generator,
        runtime=runtime,
        batch_size=t.batch_size,
        accum_steps=t.accum_steps,
        grad_clip=t.grad_clip,
        aux_weight=t.aux_weight if aux else 0.0,
        group=group,
        ddp=ddp,
    )
    if rank:
        torch.manual_seed(seed + rank)  # dropout masks differ per rank
    return Session(
        stepper, np.random.default_rng(seed), EarlyStopping(t.patience), init_note=init_note
    )


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    # No decay on biases and normalisation weights (1-d tensors).
    decay, plain = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else plain).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def _check_symmetry(arch: str, model: torch.nn.Module, rule) -> None:
    """An antisymmetric model (logit(a, b) = -logit(b, a)) can only fit a rule whose swap flips."""
    if rule.on_swap != "flip" and any(getattr(m, "antisymmetric", False) for m in model.modules()):
        raise ConfigError(
            f"architecture '{arch}' is antisymmetric (swapping the images negates its logit), "
            f"which cannot fit label rule '{rule.name}' (on a swap its label does not flip); "
            "set the architecture parameter antisymmetric to false"
        )
