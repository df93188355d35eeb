"""Evaluation speed against its batch size on this CPU: what the cpu profile's eval_batch_size is.

Models: the cpu profile's `resnet_seed42` and `fpn` of the builtin zoo, untrained (speed does
not depend on the weights), one thread (as each of train-all's workers). Each evaluates the
same 4,096 random pairs through the trainer's own eval pass at every batch size, in turns so
that all sizes share the machine's load, best round each; figures are pairs/s and the ratio to
the profile's size. PAIRZOO_BENCH_MODELS (comma-separated zoo names) benchmarks other models;
PAIRZOO_BENCH_DATA names the data directory the session is built on (default data/, made by
`pairzoo data make` if missing).
"""

from __future__ import annotations

import os
import time

BATCHES = (64, 128, 256, 512, 1024)
PAIRS = 4096
ROUNDS = 3


def main() -> None:
    from pairzoo.plugins import load_plugins

    load_plugins()
    for name in os.environ.get("PAIRZOO_BENCH_MODELS", "resnet_seed42,fpn").split(","):
        _bench(name.strip())


def _bench(name: str) -> None:
    from benchmarks.bench_budget import _data_dir
    from benchmarks.bench_train import zoo_config
    from pairzoo.train.device import cpu_threads, pick_runtime
    from pairzoo.train.loop import predict_batches
    from pairzoo.train.probe import random_pairs
    from pairzoo.train.resolve import resolve_config
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.train.session import build_session

    run = RunConfig.from_dict(resolve_config({**zoo_config(name), "data": str(_data_dir())}))
    pairs = random_pairs(PAIRS)
    runtime = pick_runtime("cpu", run.train.amp)
    model = build_session(run, runtime, pairs).stepper.model
    best = dict.fromkeys(BATCHES, 0.0)
    with cpu_threads(1):
        predict_batches(model, pairs.x[:256], runtime, 256)  # warm-up
        for _ in range(ROUNDS):
            for size in BATCHES:
                start = time.perf_counter()
                predict_batches(model, pairs.x, runtime, size)
                best[size] = max(best[size], PAIRS / (time.perf_counter() - start))
    own = run.train.eval_batch_size
    ref = best.get(own) or max(best.values())
    cells = ", ".join(f"batch {b}: {r:,.0f} ({r / ref:.2f}x)" for b, r in best.items())
    print(f"{name} eval, one thread, pairs/s (ratio to the profile's batch {own}): {cells}")
