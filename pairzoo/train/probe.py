"""How fast this machine trains and evaluates one run config, measured on the config's own step.

Random pairs (the speed, not the learning, is measured) at the config's batch size, on the
threads the caller allows. Each figure is the best of a few short rounds: the first also warms
oneDNN's kernels up, and a round slowed by a neighbour says less about the machine than the best.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from pairzoo.train.batches import DeviceSplit
from pairzoo.train.device import pick_runtime
from pairzoo.train.loop import predict_batches, train_epoch
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runconfig import RunConfig
from pairzoo.train.session import build_session

__all__ = ["Speed", "measure_speed", "random_pairs"]

PROBE_BATCHES = 6
PROBE_ROUNDS = 3


@dataclass(frozen=True)
class Speed:
    """Pairs per second of one config: a training step (forward, backward, update) and eval."""

    train_pairs_s: float
    eval_pairs_s: float

    def as_dict(self) -> dict[str, float]:
        return {
            "train_pairs_s": round(self.train_pairs_s, 1),
            "eval_pairs_s": round(self.eval_pairs_s, 1),
        }


def random_pairs(n: int, seed: int = 0) -> DeviceSplit:
    """`n` random uint8 pairs with labels and digits, as a DeviceSplit."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8)
    y = rng.integers(0, 2, size=n)
    digits = rng.integers(0, 10, size=(n, 2))
    return DeviceSplit.from_arrays(x, y, digits=digits)


def measure_speed(
    config: dict, batches: int = PROBE_BATCHES, rounds: int = PROBE_ROUNDS, timer=time.perf_counter
) -> Speed:
    """Training and eval pairs per second (by `timer`: wall time by default) of `config`'s model,
    on the CPU with the precision the trainer would pick."""
    run = RunConfig.from_dict(resolve_config(config))
    n = run.train.batch_size * batches
    pairs = random_pairs(n)
    runtime = pick_runtime("cpu", run.train.amp)
    session = build_session(run, runtime, pairs)
    train = evaluate = 0.0
    for _ in range(rounds):
        start = timer()
        train_epoch(session.stepper, pairs, torch.randperm(n))
        train = max(train, n / (timer() - start))
        start = timer()
        predict_batches(session.stepper.model, pairs.x, runtime, run.train.eval_batch_size)
        evaluate = max(evaluate, n / (timer() - start))
    return Speed(train, evaluate)
