"""Members run fused in `pairzoo ensemble eval`'s logit matrix, where that pays.

pairzoo.ensemble.fuse stacks members whose graphs share one structure into grouped convolutions.
Two fused layouts are tried against the separate members:

- **fused** (by shape): each group of fp32 members of one shape that run in one runtime becomes
  one session in that runtime, with a column per member. In OpenVINO bf16, where the members'
  narrow convolutions leave the vector units idle, a fused group of 3-5 members measured
  1.5-1.65x their separate speed on a 2-core Intel Xeon with AMX (onnxruntime fp32 there: 0.8x).
  Each group is gated on the eval's own pairs: in onnxruntime fp32 its logits within FUSED_GATE
  of the members run separately, at batch 1, 7 and the eval's batch; in another runtime, the
  fused file is then held to its fp32 outputs by that runtime's gate
  (pairzoo.runtime.choice.gives_outputs: bf16 may flip at most BF16_FLIPS of any member's
  decisions on the first GATE_PAIRS pairs).
- **whole** (under auto, with the members' runtimes picked): every fp32 member in one graph, in
  the file runtime measured fastest for it (`_whole_group`), so that a streams runtime keeps both
  cores on whole operators. With the eval's val labels it is held to each member's fp32 accuracy.

Under `auto` the layouts are then timed side by side, the whole logit matrix as the eval runs it
(its workers, its batch), and a fused one kept only where it is at least MIN_GAIN times faster
than the separate members here. Those speeds are cached per CPU kind (pairzoo.speed_cache),
keyed by the members' files, the groups, their runtimes and the layout: the next run on this CPU
kind reads them, and forced modes measure nothing. A member that runs as int8 stays on its own,
and members of one shape in two runtimes make two groups.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from collections.abc import Callable, Sequence
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
from pairzoo.runtime.choice import GATE_PAIRS as RUNTIME_GATE_PAIRS
from pairzoo.runtime.choice import RuntimeChoice, gives_outputs, openvino_version
from pairzoo.runtime.logits import logit_matrix
from pairzoo.runtime.runtimes import BASELINE, FILE_RUNTIMES, Runtime, get_runtime

FUSED_GATE = 1e-4  # largest logit difference from the separate members
MIN_GAIN = 1.05  # a near-tie, or noise, keeps the members separate
GATE_BATCHES = (1, 7)  # besides the eval's own batch size
GATE_PAIRS = 64
TIMED_BATCHES = 4  # batches of the eval's size in each timed round
ROUNDS = 3
ACCURACY_PAIRS = 4096  # labelled pairs one graph in a rounding runtime is held to
SEPARATE, FUSED, WHOLE = "separate", "fused", "whole"


@dataclass
class FusedGroup:
    """One session holding several members: its output (N, len(columns)) fills those columns."""

    session: Any
    columns: list[int]
    output: str = "logits"
    runtime: str = BASELINE
    choice: RuntimeChoice | None = None  # how the runtime was chosen, where it was measured


@dataclass
class FusionPlan:
    """The groups the logit matrix runs fused (none: every member alone) and why."""

    groups: list[FusedGroup] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)

    def ran_in(self, members: Sequence[Member]) -> list[Member]:
        """`members` as they ran: each one in a group whose runtime the layout chose (not the
        members' own choice) carries that runtime."""
        moved = {j: g.choice for g in self.groups if g.choice is not None for j in g.columns}
        return [
            dataclasses.replace(m, runtime=moved[j]) if j in moved else m
            for j, m in enumerate(members)
        ]


def plan_fusion(
    registry: Registry,
    members: Sequence[Member],
    x: np.ndarray,
    mode: str = "auto",
    threads: int = 1,
    batch_size: int = 64,
    workers: int = 1,
    cache: Path | None = None,
    y: np.ndarray | None = None,
    runtime: str = "auto",
) -> FusionPlan:
    """Which members run fused, for `mode` auto|always|never, gated and timed on pairs `x`.

    A group that fails the gate stays separate under auto; under always it is an ExportError
    naming the members and the difference. Under auto, with the members' runtimes picked
    (`runtime` auto), every fp32 member in one graph is a third layout (`_whole_group`; `y`, the
    labels of `x` where known, hold it to accuracy). `cache`: the speed cache file (default: the
    user's).
    """
    import onnx

    from pairzoo.ensemble.fuse import fuse_members

    record: dict[str, Any] = {"mode": mode, "groups": [], "members": SEPARATE}
    if mode == "never" or not len(x):  # no pairs: nothing to gate, time or run
        return FusionPlan([], record)
    # every fp32 member's graph, and the member as onnxruntime fp32 runs it (opened once, for
    # whichever candidates hold it): the groups' and the whole graph's reference
    protos = {
        j: onnx.load_from_string(_onnx_bytes(registry, m))
        for j, m in enumerate(members)
        if m.choice is None or m.choice.chosen == FP32
    }
    alone = functools.cache(lambda j: _in_onnxruntime(registry, members[j], threads))
    passed: list[FusedGroup] = []
    for columns, group_runtime in _candidates(members, protos):
        group, row = _gated_group(
            fuse_members([protos[j] for j in columns]),
            [alone(j) for j in columns],
            columns,
            group_runtime,
            x,
            threads,
            batch_size,
        )
        if "failed_gate" in row and mode == "always":
            raise ExportError(
                f"members {', '.join(row['members'])} fused: {row['failed_gate']}; use --fuse "
                "auto or never"
            )
        if "failed_gate" not in row:
            passed.append(group)
        record["groups"].append(row)
    layouts: dict[str, list[FusedGroup]] = {SEPARATE: []}
    if passed:
        layouts[FUSED] = passed
    if mode == "auto" and runtime == "auto":
        whole, record[WHOLE] = _whole_group(
            members, protos, alone, x, y, threads, batch_size, workers, cache
        )
        if whole is not None:
            layouts[WHOLE] = [whole]
    if len(layouts) == 1:
        return FusionPlan([], record)
    path = cache or speed_cache.cache_path()
    machine, key = this_cpu().key(), _cache_key(members, layouts, threads, batch_size, workers)
    speeds = speed_cache.lookup(path, machine, key, tuple(layouts))
    record["cached"] = speeds is not None
    if speeds is None and mode == "auto":
        timed = x[: TIMED_BATCHES * batch_size]
        speeds = _speeds(members, layouts, timed, batch_size, workers)
        speed_cache.store(path, machine, key, speeds)
    if speeds is not None:
        record["pairs_per_s"] = {k: round(v, 1) for k, v in speeds.items()}
    fastest = FUSED if speeds is None else max(set(layouts) - {SEPARATE}, key=speeds.get)
    chosen = speed_cache.pick_faster(mode, speeds, SEPARATE, fastest, MIN_GAIN)
    record["members"] = chosen
    return FusionPlan(layouts[chosen], record)


def _whole_group(
    members: Sequence[Member],
    protos: dict[int, Any],
    alone: Callable[[int], Member],
    x: np.ndarray,
    y: np.ndarray | None,
    threads: int,
    batch_size: int,
    workers: int,
    cache: Path | None,
) -> tuple[FusedGroup | None, dict[str, Any]]:
    """Every fp32 member in one graph, in the file runtime that runs it fastest here, and its
    record row (``failed_gate`` or ``not_built``: why there is no such group).

    The grouped layout keeps each member in the runtime its own gate chose, so members of one
    shape in two runtimes, and the narrow operators of each, stay apart. One graph in a streams
    runtime (pairzoo.runtime.streams) keeps both cores on whole operators instead. Its logits
    are first held to the members' in onnxruntime fp32 (FUSED_GATE); the runtime is then chosen
    among FILE_RUNTIMES as the one file's is, a rounding runtime held to the members' fp32
    decisions on ACCURACY_PAIRS pairs: with labels to each member's accuracy, at most MAX_DROP
    lower, as the one file with val labels is (pairzoo.ensemble.decision_gate.column_gate)."""
    from pairzoo.ensemble.decision_gate import column_gate
    from pairzoo.ensemble.fuse import fuse_members, stacked_operators
    from pairzoo.runtime.batches import split_batch
    from pairzoo.runtime.choice import choose_runtime

    columns = list(protos)
    graphs = [protos[j] for j in columns]
    if len(columns) < 2 or stacked_operators(graphs) == 0:
        refs = [members[j].ref for j in columns]
        return None, {"members": refs, "not_built": "no two fp32 members of one shape"}
    model = fuse_members(graphs)
    reference = [alone(j) for j in columns]
    _, row = _gated_group(model, reference, columns, get_runtime(BASELINE), x, threads, batch_size)
    if "failed_gate" in row:
        return None, row
    gate_x = x[:ACCURACY_PAIRS] if y is not None else x[:RUNTIME_GATE_PAIRS]
    want = logit_matrix(reference, gate_x, batch_size, workers).logits
    judge = column_gate(want, gate_x, None if y is None else y[: len(gate_x)], batch_size)
    feeds = dict(zip(("xa", "xb"), split_batch(x[:batch_size]), strict=True))
    choice, session = choose_runtime(
        model.SerializeToString(),
        FILE_RUNTIMES,
        feeds=feeds,
        what="every fp32 member fused",
        cache=cache,
        decision_gate=judge,
    )
    row["runtime"] = choice.chosen
    row["gated_on"] = {"pairs": len(gate_x), "labels": y is not None}
    row["skipped"] = dict(choice.skipped)
    return FusedGroup(session, columns, runtime=choice.chosen, choice=choice), row


def _cache_key(
    members: Sequence[Member],
    layouts: dict[str, list[FusedGroup]],
    threads: int,
    batch: int,
    workers: int,
) -> str:
    import onnxruntime

    files = hashlib.sha256(":".join(m.sha256 for m in members).encode()).hexdigest()[:16]
    fused = ";".join(
        f"{name}=" + "|".join(f"{','.join(map(str, g.columns))}@{g.runtime}" for g in groups)
        for name, groups in layouts.items()
        if groups
    )
    return (
        f"fuse:{files}:{fused}:threads={threads}:batch={batch}:workers={workers}:"
        f"pairs={TIMED_BATCHES * batch}:ort={onnxruntime.__version__}:"
        f"openvino={openvino_version()}"
    )


def _candidates(
    members: Sequence[Member], protos: dict[int, Any]
) -> list[tuple[list[int], Runtime]]:
    """(columns, runtime) of every group worth fusing: fp32 members (the keys of `protos`, their
    ONNX models) of one structure, each group in the one runtime its members run in."""
    from pairzoo.ensemble.fuse import groups_of, stacked_operators

    by_runtime: dict[str, list[int]] = {}
    for j in protos:
        by_runtime.setdefault(_runtime(members[j]).name, []).append(j)
    out = []
    for plain in by_runtime.values():
        for group in groups_of([protos[j] for j in plain]):
            columns = [plain[i] for i in group]
            if len(columns) > 1 and stacked_operators([protos[j] for j in columns]) > 0:
                out.append((columns, _runtime(members[columns[0]])))
    return out


def _runtime(member: Member) -> Runtime:
    return get_runtime(BASELINE) if member.runtime is None else member.runtime.runtime


def _gated_group(
    model: Any,
    members: list[Member],
    columns: list[int],
    runtime: Runtime,
    x: np.ndarray,
    threads: int,
    batch_size: int,
) -> tuple[FusedGroup, dict[str, Any]]:
    """The fused `model` as a group in `runtime`, and its record row (``failed_gate``: why not).

    It is gated in onnxruntime fp32 against the `members` run alone there, then, in another
    runtime, against its own fp32 outputs by that runtime's gate."""
    from pairzoo.runtime.backends import open_runtime
    from pairzoo.runtime.sessions import open_session

    fp32 = FusedGroup(open_session(model, threads, what="fused members"), columns)
    worst = _gate(fp32, members, x[:GATE_PAIRS], batch_size)
    row: dict[str, Any] = {
        "members": [m.ref for m in members],
        "runtime": runtime.name,
        "max_abs_diff": worst,
    }
    if worst > FUSED_GATE:
        row["failed_gate"] = (
            f"logits differ from the separate members' by {worst:.2e} (gate {FUSED_GATE:g})"
        )
        return fp32, row
    if runtime.name == BASELINE:
        return fp32, row
    session = open_runtime(model.SerializeToString(), runtime, "fused members")
    reason = gives_outputs(fp32.session, session, runtime.precision, x[:RUNTIME_GATE_PAIRS])
    if reason:
        row["failed_gate"] = f"in {runtime.name}, {reason}"
    return FusedGroup(session, columns, runtime=runtime.name), row


def _in_onnxruntime(registry: Registry, member: Member, threads: int) -> Member:
    """`member` as onnxruntime fp32 runs it: the reference of the fused file's fp32 gate."""
    from pairzoo.runtime.sessions import open_session

    if _runtime(member).name == BASELINE:
        return member
    session = open_session(_onnx_bytes(registry, member), threads, what=member.ref)
    return dataclasses.replace(member, session=session, output="")


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
    members: Sequence[Member],
    layouts: dict[str, list[FusedGroup]],
    x: np.ndarray,
    batch: int,
    workers: int,
) -> dict[str, float]:
    """Pairs/s of the whole logit matrix in each layout, in turns; the best round each."""
    best = dict.fromkeys(layouts, float("inf"))
    for round_ in range(ROUNDS + 1):  # round 0 warms them all up and is not counted
        for name, fused in layouts.items():
            start = time.perf_counter()
            logit_matrix(members, x, batch, workers, fused=fused)
            if round_:
                best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(x) / max(seconds, 1e-12) for name, seconds in best.items()}
