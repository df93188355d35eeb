"""Training throughput on this CPU: the trainer's data pipeline against pre-made tensors.

Model: builtin `resnet` [2, 2, 2], width 0.25, batch 64, fp32. "pipeline" is the trainer's own
epoch loop: batches sliced by index from the whole uint8 dataset, paired affine augmentation and
a/b swap on the batch. "pre-made" runs the same optimisation steps on float tensors prepared
beforehand (no slicing, no augmentation). Rounds alternate so both share the machine's load;
the best round of each is reported, per wall second and per CPU second of this process (the
machine may be shared). PAIRZOO_BENCH_THREADS sets the torch threads (default: all cores).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

BATCH = 64
BATCHES = 12  # per timed round
ROUNDS = 3
GOAL = 0.9


def _session(n: int):
    from pairzoo.train.batches import DeviceSplit
    from pairzoo.train.config import validate
    from pairzoo.train.device import pick_runtime
    from pairzoo.train.session import build_session

    cfg = validate(
        {
            "arch": "resnet",
            "arch_params": {"layers": [2, 2, 2], "width_mult": 0.25},
            "loss": "bce",
            "rule": "greater",
            "train": {"batch_size": BATCH, "epochs": 1000, "device": "cpu"},
        }
    )
    runtime = pick_runtime("cpu")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8)
    y = rng.integers(0, 2, size=n)
    train = DeviceSplit.from_arrays(x, y, device=runtime.device)
    return build_session(cfg, runtime, train), train


def _timed(fn, pairs: int) -> tuple[float, float]:
    """(pairs per wall second, pairs per CPU second of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return pairs / (time.perf_counter() - wall), pairs / (time.process_time() - cpu)


def _pipeline_round(session, train) -> tuple[float, float]:
    from pairzoo.train.loop import train_epoch

    order = torch.from_numpy(session.np_rng.permutation(len(train)))
    return _timed(lambda: train_epoch(session.stepper, train, order), len(train))


def _premade_round(session, batches) -> tuple[float, float]:
    from pairzoo.train.loop import optimizer_step

    s = session.stepper
    s.model.train()
    params = [p for p in s.model.parameters() if p.requires_grad]

    def run() -> None:
        loss_sum = torch.zeros(())
        for xa, xb, y in batches:
            loss = s.loss_fn(s.model(xa, xb), y)
            loss.backward()
            loss_sum += loss.detach()
            optimizer_step(s, params)
        loss_sum.item()

    return _timed(run, len(batches) * BATCH)


def main() -> None:
    from pairzoo.train.device import cpu_threads

    with cpu_threads(int(os.environ.get("PAIRZOO_BENCH_THREADS", "0"))):
        _bench()


def _bench() -> None:
    from pairzoo.train.augment import to_pair

    session, train = _session(BATCH * BATCHES)
    pairs = to_pair(train.x)
    batches = [
        (
            pairs[i : i + BATCH, 0:1].contiguous(),
            pairs[i : i + BATCH, 1:2].contiguous(),
            train.y[i : i + BATCH],
        )
        for i in range(0, len(train), BATCH)
    ]
    _premade_round(session, batches[:3])  # warm-up
    piped, premade = [], []
    for _ in range(ROUNDS):
        piped.append(_pipeline_round(session, train))
        premade.append(_premade_round(session, batches))
    print(
        f"resnet [2,2,2] width 0.25, batch {BATCH}, {torch.get_num_threads()} threads, "
        f"{BATCHES} batches x {ROUNDS} rounds; training pairs/s (wall | per CPU second)"
    )
    rows = (("pipeline (uint8 + paired augmentation)", piped), ("pre-made float tensors", premade))
    for label, rounds in rows:
        wall, cpu = max(r[0] for r in rounds), max(r[1] for r in rounds)
        print(f"  {label:<40} {wall:8,.0f} | {cpu:8,.0f}")
    for i, what in enumerate(("wall", "CPU")):
        ratio = max(r[i] for r in piped) / max(r[i] for r in premade)
        print(
            f"  ratio by {what}: {ratio:.2f} (goal >= {GOAL}){'' if ratio >= GOAL else '  BELOW GOAL'}"
        )
