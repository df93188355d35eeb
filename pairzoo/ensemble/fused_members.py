"""Members of one shape run fused in `pairzoo ensemble eval`'s logit matrix, where that pays.

pairzoo.ensemble.fuse stacks members whose graphs share one structure into grouped convolutions.
Here each such group of fp32 onnxruntime members becomes one session with a column per member.
Each group is first gated on the eval's own pairs: its logits within FUSED_GATE of the members
run separately, at batch 1, 7 and the eval's batch. Under `auto` the fused layout is then timed
against the separate one, side by side, the whole logit matrix as the eval runs it (its workers,
its batch), and kept only where it is at least MIN_GAIN times faster here. Those speeds are
cached per CPU kind (pairzoo.speed_cache), keyed by the members' files, the groups and the
layout: the next run on this CPU kind reads them, and forced modes measure nothing. A member that
runs as int8 or in another backend stays on its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo import speed_cache
from pairzoo.ensemble.members import Member
from pairzoo.ensemble.variants import FP32
from pairzoo.errors import ExportError
from pairzoo.machine import this_cpu
from pairzoo.registry import Registry
from pairzoo.runtime.logits import logit_matrix
from pairzoo.runtime.runtimes import BASELINE

FUSED_GATE = 1e-4  # largest logit difference from the separate members
MIN_GAIN = 1.05  # a near-tie, or noise, keeps the members separate
GATE_BATCHES = (1, 7)  # besides the eval's own batch size
GATE_PAIRS = 64
TIMED_BATCHES = 4  # batches of the eval's size in each timed round
ROUNDS = 3
SEPARATE, FUSED = "separate", "fused"


@dataclass
class FusedGroup:
    """One session holding several members: its output (N, len(columns)) fills those columns."""

    session: Any
    columns: list[int]
    output: str = "logits"


@dataclass
class FusionPlan:
    """The groups the logit matrix runs fused (none: every member alone) and why."""

    groups: list[FusedGroup] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def plan_fusion(
    registry: Registry,
    members: Sequence[Member],
    x: np.ndarray,
    mode: str = "auto",
    threads: int = 1,
    batch_size: int = 64,
    workers: int = 1,
    cache: Path | None = None,
) -> FusionPlan:
    """Which members run fused, for `mode` auto|always|never, gated and timed on pairs `x`.

    A group that fails the gate stays separate under auto; under always it is an ExportError
    naming the members and the difference. `cache`: the speed cache file (default: the user's).
    """
    import onnx

    from pairzoo.ensemble.fuse import fuse_members, groups_of, stacked_operators
    from pairzoo.runtime.sessions import open_session

    record: dict[str, Any] = {"mode": mode, "groups": [], "members": SEPARATE}
    if mode == "never":
        return FusionPlan([], record)
    plain = [j for j, m in enumerate(members) if _plain_fp32(m)]
    protos = {j: onnx.load_from_string(_onnx_bytes(registry, members[j])) for j in plain}
    candidates = []
    for group in groups_of([protos[j] for j in plain]):
        columns = [plain[i] for i in group]
        if len(columns) > 1 and stacked_operators([protos[j] for j in columns]) > 0:
            candidates.append(columns)
    passed: list[FusedGroup] = []
    for columns in candidates:
        model = fuse_members([protos[j] for j in columns])
        group = FusedGroup(open_session(model, threads, what="fused members"), columns)
        worst = _gate(group, [members[j] for j in columns], x[:GATE_PAIRS], batch_size)
        row = {"members": [members[j].ref for j in columns], "max_abs_diff": worst}
        if worst > FUSED_GATE:
            if mode == "always":
                raise ExportError(
                    f"members {', '.join(row['members'])} fused: logits differ from the "
                    f"separate members' by {worst:.2e} (gate {FUSED_GATE:g}); use --fuse auto or never"
                )
            row["failed_gate"] = True
        else:
            passed.append(group)
        record["groups"].append(row)
    if not passed:
        return FusionPlan([], record)
    path = cache or speed_cache.cache_path()
    machine, key = this_cpu().key(), _cache_key(members, passed, threads, batch_size, workers)
    speeds = speed_cache.lookup(path, machine, key, (SEPARATE, FUSED))
    record["cached"] = speeds is not None
    if speeds is None and mode == "auto":
        timed = x[: TIMED_BATCHES * batch_size]
        speeds = _speeds(members, passed, timed, batch_size, workers)
        speed_cache.store(path, machine, key, speeds)
    if speeds is not None:
        record["pairs_per_s"] = {k: round(v, 1) for k, v in speeds.items()}
    chosen = speed_cache.pick_faster(mode, speeds, SEPARATE, FUSED, MIN_GAIN)
    record["members"] = chosen
    return FusionPlan(passed if chosen == FUSED else [], record)


def _cache_key(
    members: Sequence[Member], groups: list[FusedGroup], threads: int, batch: int, workers: int
) -> str:
    import onnxruntime

    files = hashlib.sha256(":".join(m.sha256 for m in members).encode()).hexdigest()[:16]
    fused = "|".join(",".join(map(str, g.columns)) for g in groups)
    return (
        f"fuse:{files}:groups={fused}:threads={threads}:batch={batch}:workers={workers}:"
        f"pairs={TIMED_BATCHES * batch}:ort={onnxruntime.__version__}"
    )


def _plain_fp32(member: Member) -> bool:
    fp32 = member.choice is None or member.choice.chosen == FP32
    return fp32 and (member.runtime is None or member.runtime.chosen == BASELINE)


def _onnx_bytes(registry: Registry, member: Member) -> bytes:
    return registry.read_file(member.card, member.card.onnx)  # refused unless it matches the card


def _gate(group: FusedGroup, members: list[Member], x: np.ndarray, batch_size: int) -> float:
    """Largest logit difference between `group` and its members run alone, over each batch."""
    alone = dataclasses.replace(group, columns=list(range(len(members))))
    want = logit_matrix(members, x, batch_size, workers=1).logits
    worst = 0.0
    for size in (*GATE_BATCHES, batch_size):
        got = logit_matrix(members, x, size, workers=1, fused=[alone]).logits
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def _speeds(
    members: Sequence[Member], groups: list[FusedGroup], x: np.ndarray, batch: int, workers: int
) -> dict[str, float]:
    """Pairs/s of the whole logit matrix, separate and fused, in turns; the best round each."""
    layouts = {SEPARATE: (), FUSED: groups}
    best = dict.fromkeys(layouts, float("inf"))
    for round_ in range(ROUNDS + 1):  # round 0 warms both up and is not counted
        for name, fused in layouts.items():
            start = time.perf_counter()
            logit_matrix(members, x, batch, workers, fused=fused)
            if round_:
                best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(x) / max(seconds, 1e-12) for name, seconds in best.items()}
