"""Predictions for a data file from an ensemble or a single registry model, as `id,label` CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.labels_csv import write_labels
from pairzoo.ensemble.fused_members import plan_fusion
from pairzoo.ensemble.members import load_ensemble, load_members
from pairzoo.ensemble.stacking import predict_booster
from pairzoo.errors import DataError
from pairzoo.metrics import sigmoid, to_labels
from pairzoo.registry import Registry
from pairzoo.registry.card import Card
from pairzoo.runtime.choice import GATE_PAIRS
from pairzoo.runtime.logits import DEFAULT_BATCH, logit_matrix
from pairzoo.runtime.runtimes import BASELINE
from pairzoo.runtime.sessions import DEFAULT_THREADS, default_workers


@dataclass(frozen=True)
class PredictSettings:
    """Which registry entry predicts, and how its sessions run (as `pairzoo predict` runs them)."""

    ensemble: str | None = None  # an ensemble entry; None: the most recent one
    model: str | None = None  # one model, NAME[@VERSION], instead of an ensemble
    batch_size: int = DEFAULT_BATCH
    threads: int = DEFAULT_THREADS
    int8: str = "auto"  # auto | always | never: members with an int8 variant
    runtime: str = "auto"  # auto | a name of pairzoo.runtime.runtimes.MEMBER_RUNTIMES
    fuse: str = "auto"  # auto | always | never: members of one shape as one session


@dataclass(frozen=True)
class Prediction:
    """Probability of label 1 per pair, the card that gave it, and how its members ran."""

    proba: np.ndarray
    card: Card
    runtimes: dict[str, int]  # runtime name -> members that ran in it
    fuse: dict[str, Any]  # pairzoo.ensemble.fused_members' record ({} for one model)


def predict_proba(
    registry: Registry, x: np.ndarray, settings: PredictSettings | None = None
) -> tuple[np.ndarray, Card]:
    """Probability of label 1 for uint8 pairs `x`, and the card that produced it (`predict`)."""
    p = predict(registry, x, settings)
    return p.proba, p.card


def predict(
    registry: Registry, x: np.ndarray, settings: PredictSettings | None = None
) -> Prediction:
    """`x` through one model (`settings.model`, "name[@version]") or the ensemble
    `settings.ensemble` (the most recent ensemble entry when None).

    Members with an int8 variant run as the one `settings.int8` picks, each in the runtime
    `settings.runtime` picks (bf16 gated on the file's first GATE_PAIRS pairs, no labels read),
    and members of one shape fused where `settings.fuse` says, as `ensemble eval` runs them.
    """
    s = settings or PredictSettings()
    gate = x[:GATE_PAIRS]
    if s.model is not None:
        (member,) = load_members(registry, [s.model], s.threads, s.int8, s.runtime, gate)
        proba = sigmoid(logit_matrix([member], x, s.batch_size).logits[:, 0])
        return Prediction(proba, member.card, _runtimes([member]), {})
    loaded = load_ensemble(registry, s.ensemble, s.threads, s.int8, s.runtime, gate)
    members = loaded.members
    workers = default_workers(len(members), s.threads)
    fusion = plan_fusion(
        registry, members, x, s.fuse, s.threads, s.batch_size, workers, runtime=s.runtime
    )
    _, proba = ensemble_outputs(members, loaded.booster, x, s.batch_size, s.threads, fusion.groups)
    return Prediction(proba, loaded.card, _runtimes(fusion.ran_in(members)), fusion.record)


def ensemble_outputs(
    members: list,
    booster: Any,
    x: np.ndarray,
    batch_size: int = DEFAULT_BATCH,
    threads: int = 1,
    fused: Sequence[Any] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Member logits (N, members) and the stacked probability of label 1: what `predict` runs."""
    workers = default_workers(len(members), threads)
    logits = logit_matrix(members, x, batch_size, workers, fused).logits
    return logits, predict_booster(booster, logits, threads)


def _runtimes(members: list) -> dict[str, int]:
    names = [m.runtime.chosen if m.runtime is not None else BASELINE for m in members]
    return {n: names.count(n) for n in sorted(set(names))}


def check_predictions(ids: np.ndarray, labels: np.ndarray, expected_ids: np.ndarray) -> None:
    """Raise DataError unless ids are unique and equal to `expected_ids` and labels are 0/1."""
    ids = np.asarray(ids).astype(str)
    expected = np.asarray(expected_ids).astype(str)
    labels = np.asarray(labels)
    if len(ids) != len(labels):
        raise DataError(f"predictions: {len(ids)} ids but {len(labels)} labels")
    if len(np.unique(ids)) != len(ids):
        raise DataError(f"predictions: {len(ids) - len(np.unique(ids))} duplicate ids")
    if len(ids) != len(expected) or not np.array_equal(ids, expected):
        missing = len(set(expected) - set(ids))
        raise DataError(
            f"predictions: ids differ from the data file's ({len(ids)} vs {len(expected)} ids, "
            f"{missing} missing)"
        )
    if labels.dtype.kind not in "iub" or not np.isin(labels, (0, 1)).all():
        found = sorted(set(labels.tolist()))[:5]
        raise DataError(f"predictions: labels must be 0 or 1, found {found}")


def write_predictions(
    path: str | Path, ids: np.ndarray, proba: np.ndarray, expected_ids: np.ndarray
) -> np.ndarray:
    """Validate and atomically write `id,label` (label = probability > 0.5); returns the labels."""
    labels = to_labels(proba)
    check_predictions(ids, labels, expected_ids)
    write_labels(path, ids, labels)
    return labels
