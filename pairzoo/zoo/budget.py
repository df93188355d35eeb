"""A time budget for a zoo's training phase: pairs per epoch sized to what this machine trains.

The cpu profile's pairs per epoch take about 23 minutes on a CPU with bf16 kernels and over
twice that on one with AVX2 only. With ``settings.train_minutes`` above 0, train-all first
measures how fast each distinct model trains and evaluates here (`pairzoo.train.probe`, in
`jobs` worker processes at once, as the models will train), then scales every model's pairs
per epoch by one factor, at most 1 (the zoo file's figure is a ceiling, never raised), so that
the training phase should fit. Epochs, and so the shape of the learning-rate schedule, stay.
A model's cost counts what its run does besides training steps: the fresh pairs it makes each
epoch (timed on this machine, as the generator makes them), a val pass per epoch, the last one's
digit report and test_public. Before the fresh pairs were counted the plan fell short by about a
fifth (predicted 1,214 s for the cpu profile's training phase, 1,508 s measured on a 2-core Xeon).

The plan is written to RUNS/budget.json and reused while the budget, the jobs and every model's
settings stay the same, so a rerun keeps finished models and a killed run resumes them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pairzoo.atomic import write_json
from pairzoo.data.format import split_pairs, split_path
from pairzoo.data.fresh import fresh_pairs
from pairzoo.data.npz import read_arrays
from pairzoo.errors import ConfigError, DataError
from pairzoo.machine import this_cpu
from pairzoo.plugins import load_plugins
from pairzoo.train.config import config_hash
from pairzoo.train.device import cpu_threads
from pairzoo.train.fresh_train import choose_pairs
from pairzoo.train.probe import measure_speed
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runconfig import RunConfig
from pairzoo.zoo.training import Job, read_json

__all__ = ["BUDGET_FILE", "Cost", "Plan", "pairs_range", "plan_pairs", "sized_jobs"]

BUDGET_FILE = "budget.json"
PAIR_STEP = 1000  # pairs per epoch are rounded down to a multiple of this
MIN_PAIRS = 2000  # a budget too small for this many pairs per epoch trains this many anyway
_SIZED = ("train", "val", "test_public")  # the splits a model's training reads
START_S = 8.0  # per model: a worker starting, the data loaded
FRESH_PROBE_PAIRS = 2000  # fresh pairs timed, twice, for the generator's seconds per pair


@dataclass(frozen=True)
class Cost:
    """What one model's training costs here, in seconds: per training pair, and the rest."""

    name: str
    epochs: int
    pairs: int  # per epoch, as the zoo file has it
    s_per_pair: float
    fixed_s: float  # evaluation each epoch and at the end, and START_S


@dataclass
class Plan:
    """The budget's choice: each model's pairs per epoch, and how it was reached."""

    train_minutes: float
    jobs: int
    scale: float
    predicted_s: float
    pairs: dict[str, int]  # model -> pairs per epoch
    speeds: dict[str, dict[str, float]]  # model -> measured pairs per second
    cpu: str
    basis: str  # hash of what the plan was made for
    floor_hit: bool = False
    fresh_s_per_pair: float = 0.0  # the generator's, where models train on fresh pairs

    def describe(self) -> str:
        line = (
            f"budget: {self.train_minutes:g} min of training with {self.jobs} at once: "
            f"{pairs_range(self.pairs)} pairs per epoch ({self.scale:.0%} of the zoo file's), "
            f"predicted {self.predicted_s / 60:.1f} min on {self.cpu}"
        )
        if self.floor_hit:
            line += f"; the budget is too small: every model trains at least {MIN_PAIRS:,} pairs per epoch"
        return line


def pairs_range(pairs: dict[str, int]) -> str:
    """The pairs per epoch, as "40,000", or "21,000-23,000" where the models got different counts."""
    counts = sorted(set(pairs.values()))
    return f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}-{counts[-1]:,}"


def plan_pairs(
    costs: list[Cost], minutes: float, jobs: int
) -> tuple[float, dict[str, int], float, bool]:
    """(scale, pairs per epoch by model, predicted seconds, floor hit) for `costs` to train in
    `minutes` with `jobs` models at once: the training seconds are shared out evenly, as the
    workers take the next model when one finishes."""
    available = minutes * 60 * jobs - sum(c.fixed_s for c in costs)
    per_scale = sum(c.epochs * c.pairs * c.s_per_pair for c in costs)
    scale = min(1.0, max(0.0, available / per_scale)) if per_scale > 0 else 1.0
    pairs, floor_hit = {}, False
    for c in costs:
        wanted = c.pairs if scale >= 1.0 else int(scale * c.pairs) // PAIR_STEP * PAIR_STEP
        if wanted < min(MIN_PAIRS, c.pairs):
            wanted, floor_hit = min(MIN_PAIRS, c.pairs), True
        pairs[c.name] = wanted
    spent = sum(c.epochs * pairs[c.name] * c.s_per_pair + c.fixed_s for c in costs)
    return scale, pairs, spent / jobs, floor_hit


def sized_jobs(
    jobs: list[Job],
    settings: dict[str, Any],
    runs_dir: Path,
    say: Callable[[str], None],
) -> tuple[list[Job], Plan | None]:
    """`jobs` with pairs per epoch fitted to ``settings['train_minutes']`` (unchanged at 0), and
    the plan; a plan in RUNS/budget.json made for the same jobs and budget is reused."""
    minutes, workers = float(settings.get("train_minutes", 0.0)), int(settings["jobs"])
    if minutes <= 0 or not jobs:
        return jobs, None
    sizes = {split: split_pairs(jobs[0].config["data"], split) for split in _SIZED}
    basis = _basis(jobs, minutes, workers, sizes)
    plan = _saved(runs_dir / BUDGET_FILE, basis)
    if plan is None:
        say(f"budget: measuring how fast each model trains here ({workers} at once)")
        plan = _new_plan(jobs, minutes, workers, basis, sizes)
        write_json(runs_dir / BUDGET_FILE, asdict(plan))
    say(plan.describe())
    return [_with_pairs(job, plan.pairs[job.name], sizes) for job in jobs], plan


def _new_plan(
    jobs: list[Job], minutes: float, workers: int, basis: str, sizes: dict[str, int]
) -> Plan:
    groups: dict[str, list[Job]] = {}
    for job in jobs:  # models that differ only in seed or name train at the same speed
        groups.setdefault(_speed_key(job.config), []).append(job)
    firsts = [group[0].config for group in groups.values()]
    if workers == 1:
        measured = [_measure(config) for config in firsts]
    else:  # measured `workers` at once, as they will train: they share caches and memory
        padded = firsts + firsts[:1] * max(0, workers - len(firsts))
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            measured = list(pool.map(_measure_in_worker, padded))[: len(firsts)]
    speeds = {
        job.name: speed
        for group, speed in zip(groups.values(), measured, strict=True)
        for job in group
    }
    fresh = {job.name: _trains_fresh(job.config) for job in jobs}
    fresh_s = _fresh_s_per_pair(jobs[0].config["data"]) if any(fresh.values()) else 0.0
    digits = _val_has_digits(jobs[0].config["data"])
    costs = [
        _cost(job, speeds[job.name], sizes, fresh_s if fresh[job.name] else 0.0, digits)
        for job in jobs
    ]
    scale, pairs, predicted, floor_hit = plan_pairs(costs, minutes, workers)
    return Plan(minutes, workers, round(scale, 4), round(predicted, 1), pairs, speeds,
                this_cpu().describe(), basis, floor_hit, round(fresh_s, 8))  # fmt: skip


def _measure(config: dict) -> dict[str, float]:
    with cpu_threads(int(config["train"].get("threads", 1)) or 1):
        return measure_speed(config).as_dict()


def _measure_in_worker(config: dict) -> dict[str, float]:
    load_plugins()  # a spawned process starts without them ($PAIRZOO_PLUGINS_DIR is inherited)
    return _measure(config)


def _cost(
    job: Job,
    speed: dict[str, float],
    sizes: dict[str, int],
    fresh_s_per_pair: float = 0.0,
    val_digits: bool = False,
) -> Cost:
    """Training a pair costs a step and, on fresh pairs, making it (the generator's thread shares
    the cores the workers use); besides, a val pass per epoch, test_public, and a second val pass
    for the digit report where val has digits."""
    epochs = int(job.config["train"]["epochs"])
    evaluated = (epochs + int(val_digits)) * sizes["val"] + sizes["test_public"]
    fixed = evaluated / speed["eval_pairs_s"] + START_S
    per_pair = 1.0 / speed["train_pairs_s"] + fresh_s_per_pair
    return Cost(job.name, epochs, _zoo_pairs(job, sizes), per_pair, fixed)


def _trains_fresh(config: dict) -> bool:
    """Whether the run will make fresh pairs each epoch, as the trainer decides it."""
    try:
        return choose_pairs(RunConfig.from_dict(resolve_config(config)), teacher=False)[0]
    except (ConfigError, DataError):  # the run itself will say why; it makes no pairs
        return False


def _fresh_s_per_pair(data_dir: str) -> float:
    """Seconds the generator takes per fresh pair here, the better of two rounds."""
    maker = fresh_pairs(data_dir)
    best = float("inf")
    for epoch in (1, 2):
        start = time.perf_counter()
        maker.epoch(0, epoch, FRESH_PROBE_PAIRS)
        best = min(best, time.perf_counter() - start)
    return best / FRESH_PROBE_PAIRS


def _val_has_digits(data_dir: str) -> bool:
    path = split_path(data_dir, "val")
    return path.is_file() and read_arrays(path, ["digits"]).get("digits") is not None


def _zoo_pairs(job: Job, sizes: dict[str, int]) -> int:
    """Pairs per epoch as the zoo file has it: its subset, or the whole train split."""
    return int(job.config["train"].get("subset") or 0) or sizes["train"]


def _with_pairs(job: Job, pairs: int, sizes: dict[str, int]) -> Job:
    """`job` training `pairs` per epoch; the job itself where that is what it already trains."""
    if pairs == _zoo_pairs(job, sizes):
        return job
    config = copy.deepcopy(job.config)
    config["train"]["subset"] = pairs
    return Job(job.name, config, job.out)


def _speed_key(config: dict) -> str:
    train = {k: v for k, v in config["train"].items() if k in ("batch_size", "amp", "threads")}
    body = {k: config.get(k) for k in ("arch", "arch_params", "loss", "loss_params")}
    return json.dumps({**body, "train": train}, sort_keys=True, default=str)


def _basis(jobs: list[Job], minutes: float, workers: int, sizes: dict[str, int]) -> str:
    body = {
        "train_minutes": minutes,
        "jobs": workers,
        "models": {job.name: config_hash(job.config) for job in jobs},
        "cpu": this_cpu().key(),
        "data": sizes,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _saved(path: Path, basis: str) -> Plan | None:
    raw = read_json(path, None)
    if not isinstance(raw, dict) or raw.get("basis") != basis:
        return None
    try:
        return Plan(**raw)
    except TypeError:  # a file from another version of this plan
        return None
