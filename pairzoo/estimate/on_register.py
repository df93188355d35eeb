"""The calibration an ensemble card gets when it is registered, as `run_ensemble_eval` asks for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.ensemble.stacking import load_booster
from pairzoo.estimate.entry import EntryRunner
from pairzoo.estimate.record import generated_record
from pairzoo.estimate.shifts import DEFAULT_SEED


def card_calibrator(data_dir: str | Path | None, pairs: int, batch_size: int, threads: int):
    """What `run_ensemble_eval` calls with the members and the saved meta-learner: the card's
    section, calibrated on `pairs` generated pairs per shift, with the meta-learner as `predict`
    will load it."""

    def calibrate(members, meta_learner: Path) -> dict[str, Any]:
        booster = load_booster(meta_learner)
        runner = EntryRunner(None, members, booster, batch_size, threads)
        return generated_record(runner, data_dir, pairs, DEFAULT_SEED)

    return calibrate
