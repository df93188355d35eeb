"""Data-parallel training throughput on this CPU: two gloo processes against one, same global batch.

Model: builtin `resnet` [2, 2, 2], width 0.25, global batch 64 (32 per process with two), fp32,
one torch thread per process, the trainer's own epoch loop (uint8 batches, paired augmentation)
on random pairs. Both ways run inside the same two spawned processes, round after round so they
share the machine's load: in the one-process rounds rank 0 trains alone while rank 1 waits, in
the two-process rounds both train one DDP model. The best round of each is reported, in training
pairs per wall second, and per CPU second of all the processes (what DDP costs in work,
which a shared machine does not distort as much).
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import torch

BATCH = 64
BATCHES = 12  # global batches per timed round
ROUNDS = 3
WORLD = 2


def _config():
    from pairzoo.train.runconfig import RunConfig

    return RunConfig.from_dict(
        {
            "arch": "resnet",
            "arch_params": {"layers": [2, 2, 2], "width_mult": 0.25},
            "loss": "bce",
            "rule": "greater",
            "train": {"batch_size": BATCH, "epochs": 1000, "device": "cpu", "threads": 1},
        }
    )


def _data():
    from pairzoo.train.batches import DeviceSplit

    rng = np.random.default_rng(0)
    n = BATCH * BATCHES
    x = rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8)
    return DeviceSplit.from_arrays(x, rng.integers(0, 2, size=n), device="cpu")


def _round(session, train) -> tuple[float, float]:
    """(pairs per wall second, CPU seconds this process spent)."""
    from pairzoo.train.loop import train_epoch

    order = torch.from_numpy(session.np_rng.permutation(len(train)))
    wall, cpu = time.perf_counter(), time.process_time()
    train_epoch(session.stepper, train, order)
    return len(train) / (time.perf_counter() - wall), time.process_time() - cpu


def _worker(rank: int, port: int, results) -> None:
    import torch.distributed as dist

    from pairzoo.plugins import load_plugins
    from pairzoo.train.device import pick_runtime
    from pairzoo.train.distributed import World, process_group
    from pairzoo.train.session import build_session

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD)
    )
    torch.set_num_threads(1)
    load_plugins(None)
    cfg, train, runtime = _config(), _data(), pick_runtime("cpu")
    with process_group(World(rank, WORLD, rank, WORLD), "gloo", runtime.device) as group:
        alone = build_session(cfg, runtime, train) if rank == 0 else None
        together = build_session(cfg, runtime, train, group)
        one, two = [], []
        for _ in range(ROUNDS + 1):  # round 0 warms up
            if rank == 0:
                one.append(_round(alone, train))
            dist.barrier()
            rate, cpu = _round(together, train)
            cpu_all = torch.tensor([cpu], dtype=torch.float64)
            dist.all_reduce(cpu_all)  # both processes' CPU seconds
            two.append((rate, cpu_all.item()))
        if rank == 0:
            results.put((_best(one[1:], len(train)), _best(two[1:], len(train))))


def _best(rounds, pairs: int) -> tuple[float, float]:
    """(best pairs per wall second, best pairs per CPU second of all processes)."""
    return max(r[0] for r in rounds), max(pairs / r[1] for r in rounds)


def main() -> None:
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    mp.start_processes(_worker, args=(_free_port(), results), nprocs=WORLD, start_method="spawn")
    one, two = results.get()
    print(
        f"resnet [2,2,2] width 0.25, global batch {BATCH}, one thread per process, "
        f"{BATCHES} batches x {ROUNDS} rounds (best round); training pairs per wall second | "
        "per CPU second of all processes"
    )
    print(f"  {'1 process':<30} {one[0]:8,.0f} | {one[1]:8,.0f}")
    print(f"  {f'{WORLD} processes (DDP, gloo)':<30} {two[0]:8,.0f} | {two[1]:8,.0f}")
    print(
        f"  ratio {WORLD} / 1 by wall: {two[0] / one[0]:.2f} (ideal {WORLD:.2f} on {WORLD} idle "
        f"cores); by CPU: {two[1] / one[1]:.2f} (ideal 1.00, the cost of the collectives)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
