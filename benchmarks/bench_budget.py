"""Accuracy at equal compute: which cpu-profile settings learn most in the same training time.

`python -m benchmarks budget` trains `resnet_seed42` of the builtin zoo (its cpu-profile config)
once per row, each row changing one setting (width, depth, fusion head, batch size, epochs
against pairs per epoch, fresh against fixed pairs, bf16 against fp32). Every row gets the same
training budget in CPU-seconds on one thread: a short probe of the row's own training step sets
how many pairs it can afford, which the row spends as `epochs` x `subset`. CPU time, not wall
time, so that rows stay comparable when the machine is shared; on a quiet machine the two agree.
Two rows train at once, one per core, as `make train-all`'s workers do.

The record (rows with val and test_public accuracy, pairs seen, CPU and wall seconds, the CPU
named) is written to runs/bench/budget.json. Settings:

- PAIRZOO_BENCH_BUDGET_S: CPU-seconds of training per row (default 240);
- PAIRZOO_BENCH_ROWS: comma-separated row names to run (default: all);
- PAIRZOO_BENCH_DATA: the data directory (default data/, made by `pairzoo data make` if missing).
"""

from __future__ import annotations

import copy
import datetime
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

BUDGET_S = 240.0
RECORD = Path("runs/bench/budget.json")
MODEL = "resnet_seed42"

# name -> (what it changes, overrides as {table: {key: value}}); each row changes one thing
# against "profile" (the cpu profile as the zoo file has it) or against "posterior".
ROWS = {
    "profile": ("the cpu profile as it is", {}),
    "posterior": ("digit-posterior head", {"arch_params": {"heads": ["posterior"]}}),
    "posterior+concat": (
        "digit-posterior and concat heads mixed",
        {"arch_params": {"heads": ["posterior", "concat"]}},
    ),
    "width 1/4": (
        "posterior, towers at 1/4 width",
        {"arch_params": {"heads": ["posterior"], "width_mult": 0.25}},
    ),
    "width 3/8": (
        "posterior, towers at 3/8 width",
        {"arch_params": {"heads": ["posterior"], "width_mult": 0.375}},
    ),
    "depth 1,1,1": (
        "posterior, one block per stage",
        {"arch_params": {"heads": ["posterior"], "layers": [1, 1, 1]}},
    ),
    "batch 256": (
        "posterior, batch 256",
        {"arch_params": {"heads": ["posterior"]}, "train": {"batch_size": 256}},
    ),
    "6 epochs": (
        "posterior, the same pairs as 6 shorter epochs",
        {"arch_params": {"heads": ["posterior"]}, "train": {"epochs": 6}},
    ),
    "fresh": (
        "posterior, new corrupted pairs every epoch (train.pairs = fresh)",
        {"arch_params": {"heads": ["posterior"]}, "train": {"pairs": "fresh"}},
    ),
    "fp32": (
        "posterior, bf16 off ($PAIRZOO_CPU_BF16=never)",
        {"arch_params": {"heads": ["posterior"]}},
    ),
}
ENV = {"fp32": {"PAIRZOO_CPU_BF16": "never"}}


def main() -> None:
    from pairzoo.atomic import write_json
    from pairzoo.machine import this_cpu
    from pairzoo.train import cpu_precision

    budget = float(os.environ.get("PAIRZOO_BENCH_BUDGET_S", BUDGET_S))
    wanted = [r.strip() for r in os.environ.get("PAIRZOO_BENCH_ROWS", "").split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ROWS))
    if unknown:
        raise SystemExit(f"unknown rows {unknown} (rows: {', '.join(ROWS)})")
    names = wanted or list(ROWS)
    if "fp32" in names and not cpu_precision.bf16_kernels():
        names.remove("fp32")
        print("  row fp32 skipped: this CPU has no bf16 kernels, every row already trains in fp32")
    data = _data_dir()
    started = time.time()
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(_row, names, [budget] * len(names), [str(data)] * len(names)))
    record = {
        "kind": "budget",
        "cpu": this_cpu().describe(),
        "cpu_key": this_cpu().key(),
        "date": datetime.date.today().isoformat(),
        "model": MODEL,
        "budget_cpu_s": budget,
        "data": str(data),
        "wall_s": round(time.time() - started, 1),
        "rows": rows,
    }
    write_json(RECORD, record)
    _print(record)


def _data_dir() -> Path:
    data = Path(os.environ.get("PAIRZOO_BENCH_DATA", "data"))
    if not (data / "train.npz").exists():
        from pairzoo.data.generate import make_dataset

        make_dataset(data)
    return data


def _config(name: str, data: str) -> dict:
    from benchmarks.bench_train import zoo_config

    # rule "": the data's own, as the zoo leaves it
    cfg = copy.deepcopy({**zoo_config(MODEL), "data": data, "name": f"budget-{name}", "rule": ""})
    for table, values in ROWS[name][1].items():
        cfg.setdefault(table, {}).update(values)
    cfg["train"].update(threads=1, patience=0)
    return cfg


def _row(name: str, budget: float, data: str) -> dict:
    os.environ.update(ENV.get(name, {}))
    from pairzoo.data.format import split_pairs
    from pairzoo.plugins import load_plugins
    from pairzoo.train.trainer import train_run

    load_plugins()
    cfg = _config(name, data)
    rate = _probe_rate(cfg)
    epochs = cfg["train"]["epochs"]
    n_train = split_pairs(data, "train")
    wanted = int(rate * budget / epochs)
    # fresh epochs hold as many pairs as asked, train.npz's only as many as it has
    subset = wanted if _fresh(cfg) else min(n_train, wanted)
    cfg["train"]["subset"] = subset
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pairzoo-budget-") as out:
        metrics = train_run(cfg, Path(out) / "run", progress=False)
    return {
        "row": name,
        "changes": ROWS[name][0],
        "arch_params": {k: cfg["arch_params"][k] for k in sorted(cfg["arch_params"])},
        "batch_size": cfg["train"]["batch_size"],
        "epochs": epochs,
        "pairs_per_epoch": subset,
        "probe_pairs_per_cpu_s": round(rate, 1),
        "capped_by_data": subset < wanted,
        "train_dtype": metrics["train_dtype"],
        "val_accuracy": metrics["val"]["accuracy"],
        "test_public_accuracy": (metrics["test_public"] or {}).get("accuracy"),
        "cpu_s": round(time.process_time() - cpu0, 1),
        "wall_s": round(time.perf_counter() - wall0, 1),
    }


def _fresh(cfg: dict) -> bool:
    from pairzoo.train.fresh_train import choose_pairs
    from pairzoo.train.runconfig import RunConfig

    return choose_pairs(RunConfig.from_dict(cfg), teacher=False)[0]


def _probe_rate(cfg: dict) -> float:
    """Training pairs per CPU-second of the row's own step (the trainer's budget probe, timed in
    CPU time)."""
    from pairzoo.train.device import cpu_threads
    from pairzoo.train.probe import measure_speed

    with cpu_threads(1):
        return measure_speed(cfg, timer=time.process_time).train_pairs_s


def _print(record: dict) -> None:
    print(
        f"{record['model']}, {record['budget_cpu_s']:.0f} CPU-s of training per row, "
        f"one thread each, CPU {record['cpu']}"
    )
    base = next((r for r in record["rows"] if r["row"] == "profile"), record["rows"][0])
    print(
        f"  {'row':<18} {'pairs/CPU-s':>11} {'epochs x pairs':>15} {'val':>7} {'vs ' + base['row']:>12}"
    )
    for r in record["rows"]:
        seen = f"{r['epochs']} x {r['pairs_per_epoch']:,}"
        gain = 100 * (r["val_accuracy"] - base["val_accuracy"])
        print(
            f"  {r['row']:<18} {r['probe_pairs_per_cpu_s']:>11,.0f} {seen:>15} "
            f"{100 * r['val_accuracy']:6.2f}% {gain:+11.2f}"
        )
    print(f"  record: {RECORD}")
