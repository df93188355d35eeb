"""Estimates for a registry entry: an ensemble (its members and itself) or one model.

Calibration happens when an ensemble is registered (train-all, adapt, `eval --ensemble`), so
the card carries it and an estimate made later is reproducible from the card alone; for an
entry without one (a lone model, an ensemble registered with calibration off) it is made on
demand from the same seeded generator settings, which remake the same sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.ensemble.members import load_ensemble, load_members
from pairzoo.ensemble.predict import ensemble_outputs as run_ensemble
from pairzoo.estimate.outputs import Outputs, ensemble_outputs, model_outputs
from pairzoo.estimate.record import SECTION, estimates, generated_record
from pairzoo.estimate.shifts import DEFAULT_PAIRS, DEFAULT_SEED
from pairzoo.registry import Registry
from pairzoo.runtime.logits import logit_matrix


@dataclass
class EntryRunner:
    """A loaded entry that turns pairs into Outputs through predict's functions."""

    card: Any
    members: list
    booster: Any = None
    batch_size: int = 64
    threads: int = 1

    def __call__(self, x: np.ndarray) -> Outputs:
        if self.booster is None:
            (member,) = self.members
            return model_outputs(self.card.ref, logit_matrix([member], x, self.batch_size).logits)
        logits, proba = run_ensemble(self.members, self.booster, x, self.batch_size, self.threads)
        return ensemble_outputs([m.ref for m in self.members], logits, proba)


def open_entry(
    registry: Registry,
    ensemble: str | None = None,
    model: str | None = None,
    threads: int = 1,
    int8: str = "auto",
    batch_size: int = 64,
) -> EntryRunner:
    """`model` NAME[@VERSION], else the ensemble `ensemble` (None: the latest)."""
    if model is not None:
        (member,) = load_members(registry, [model], threads, int8)
        return EntryRunner(member.card, [member], None, batch_size, threads)
    loaded = load_ensemble(registry, ensemble, threads, int8)
    return EntryRunner(loaded.card, loaded.members, loaded.booster, batch_size, threads)


@dataclass(frozen=True)
class Calibration:
    record: dict[str, Any]
    from_card: bool


def entry_calibration(
    runner: EntryRunner,
    data_dir: str | Path | None = None,
    pairs: int = DEFAULT_PAIRS,
    seed: int = DEFAULT_SEED,
    use_card: bool = True,
) -> Calibration:
    """The card's calibration (unless `use_card` is off), or one made now (`data_dir`: whose
    train digits to leave out; default: the data the entry records)."""
    held = runner.card.get(SECTION)
    if use_card and isinstance(held, dict) and held.get("predictors"):
        return Calibration(held, True)
    if data_dir is None:
        data_dir = runner.card.section("data").get("path")
        data_dir = data_dir if data_dir and Path(data_dir).is_dir() else None
    return Calibration(generated_record(runner, data_dir, pairs, seed), False)


def estimate_pairs(runner: EntryRunner, calibration: Calibration, x: np.ndarray) -> list[dict]:
    """Rows of `estimates` for the pairs `x` (their labels are never given)."""
    return estimates(calibration.record, runner(x))
