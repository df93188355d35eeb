"""Evaluate base models and every combiner of them on the same splits, side by side.

All combiners are scored out-of-fold on val with the same stratified folds (the winner is
chosen there), then refit on all of val and applied to test_public, which is reported but never
used for any choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pairzoo.ensemble.baselines import (
    AccuracyWeighted,
    BestSingle,
    LogisticStacker,
    MajorityVote,
    MeanProbability,
    SingleModel,
)
from pairzoo.ensemble.caruana import CaruanaSelection
from pairzoo.ensemble.folds import Combiner, out_of_fold, stratified_folds
from pairzoo.ensemble.members import Member
from pairzoo.ensemble.stacking import LGBMStacker, StackingParams
from pairzoo.errors import DataError
from pairzoo.metrics import classification_metrics
from pairzoo.runtime.logits import DEFAULT_BATCH, LogitMatrix, logit_matrix

STACKER = LGBMStacker.name


@dataclass
class MethodResult:
    """One leaderboard row: how a single model or a combiner did on val (OOF) and test_public."""

    name: str
    kind: str  # "single" or "ensemble"
    members_used: list[str]
    val: dict[str, float | None]
    test_public: dict[str, float | None] | None
    fold_accuracy: list[float]
    latency_us: float
    val_proba: np.ndarray = field(repr=False)
    test_proba: np.ndarray | None = field(repr=False)
    final: Any = field(default=None, repr=False)
    winner: bool = False


@dataclass
class Evaluation:
    members: list[Member]
    val: LogitMatrix
    test: LogitMatrix | None
    y_val: np.ndarray
    y_test: np.ndarray | None
    results: list[MethodResult]
    params: StackingParams
    folds: list[tuple[np.ndarray, np.ndarray]]

    @property
    def winner(self) -> MethodResult:
        return next(r for r in self.results if r.winner)

    @property
    def stacker(self) -> MethodResult:
        return next(r for r in self.results if r.name == STACKER)

    def member_latency_us(self) -> np.ndarray:
        seconds = self.val.model_seconds + (self.test.model_seconds if self.test else 0.0)
        pairs = self.val.n + (self.test.n if self.test else 0)
        return seconds / max(pairs, 1) * 1e6


def combiners(
    members: Sequence[Member], params: StackingParams, caruana_rounds: int = 25
) -> list[tuple[str, Callable[[], Combiner]]]:
    """(kind, factory) for every single model and every combiner, in leaderboard order."""
    out: list[tuple[str, Callable[[], Combiner]]] = [
        ("single", lambda i=i, m=m: SingleModel(i, m.ref)) for i, m in enumerate(members)
    ]
    out += [
        ("ensemble", BestSingle),
        ("ensemble", MeanProbability),
        ("ensemble", AccuracyWeighted),
        ("ensemble", MajorityVote),
        ("ensemble", lambda: LogisticStacker(seed=params.seed)),
        ("ensemble", lambda: CaruanaSelection(rounds=caruana_rounds)),
        ("ensemble", lambda: LGBMStacker(params)),
    ]
    return out


def evaluate(
    members: Sequence[Member],
    x_val: np.ndarray,
    y_val: np.ndarray | None,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    params: StackingParams | None = None,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    caruana_rounds: int = 25,
    fused: Sequence[Any] = (),
) -> Evaluation:
    """Score every member and combiner; the LightGBM stacker's refit is in ``.stacker.final``.

    `fused`: groups of members run as one session each (pairzoo.ensemble.fused_members)."""
    params = params or StackingParams()
    if not members:
        raise DataError("no members to evaluate; give at least one model")
    folds = stratified_folds(y_val, params.folds, params.seed, what="val")
    y_val = np.asarray(y_val, dtype=np.int64)
    val = logit_matrix(members, x_val, batch_size, workers, fused)
    test = None
    if x_test is not None:
        test = logit_matrix(members, x_test, batch_size, workers, fused)
    ev = Evaluation(list(members), val, test, y_val, y_test, [], params, folds)
    latency = ev.member_latency_us()
    for kind, make in combiners(members, params, caruana_rounds):
        ev.results.append(_score(kind, make, ev, latency))
    _mark_winner(ev.results)
    return ev


def _score(
    kind: str, make: Callable[[], Combiner], ev: Evaluation, latency: np.ndarray
) -> MethodResult:
    oof = out_of_fold(make, ev.val.logits, ev.y_val, ev.folds)
    final = make().fit(ev.val.logits, ev.y_val)
    test_proba = final.predict_proba(ev.test.logits) if ev.test is not None else None
    combine_us = _combine_us(final, ev.test.logits if ev.test is not None else ev.val.logits)
    used = list(final.members_used)
    return MethodResult(
        name=final.name,
        kind=kind,
        members_used=[ev.members[i].ref for i in used],
        val=classification_metrics(ev.y_val, oof.proba),
        test_public=(
            classification_metrics(ev.y_test, test_proba)
            if test_proba is not None and ev.y_test is not None
            else None
        ),
        fold_accuracy=oof.fold_accuracy,
        latency_us=float(latency[used].sum() + combine_us),
        val_proba=oof.proba,
        test_proba=test_proba,
        final=final,
    )


def _combine_us(final: Combiner, logits: np.ndarray, repeats: int = 3) -> float:
    """Microseconds per pair to combine member logits (best of `repeats`: the CPU is shared)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        final.predict_proba(logits)
        best = min(best, time.perf_counter() - t0)
    return best / max(len(logits), 1) * 1e6


def _mark_winner(results: list[MethodResult]) -> None:
    # Val (out-of-fold) accuracy decides; ties go to the higher val ROC-AUC, then to fewer
    # members, then to the earlier row (single models come first). Timing never decides: it is
    # noisy on a shared machine, and the choice must be reproducible.
    def key(r: MethodResult) -> tuple[float, float, int]:
        return (r.val["accuracy"], r.val["roc_auc"] or 0.0, -len(r.members_used))

    max(results, key=key).winner = True
