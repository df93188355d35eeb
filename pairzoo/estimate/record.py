"""The calibration record an ensemble card keeps (section `estimate`), and estimates from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.estimate.calibration import Fitted, calibrate
from pairzoo.estimate.outputs import Outputs
from pairzoo.estimate.shifts import calibration_sets

SECTION = "estimate"
FORMAT = 2  # 2: the agreement-confidence plane and the confidences it was fitted on


def generated_record(
    run: Callable[[np.ndarray], Outputs], data_dir: str | Path | None, pairs: int, seed: int
) -> dict[str, Any]:
    """Calibrate every predictor `run` gives on the generator's sets; the card section."""
    sets, settings = calibration_sets(data_dir, pairs, seed)
    return calibration_record(run, sets, settings)


def calibration_record(
    run: Callable[[np.ndarray], Outputs], sets: list, settings: dict[str, Any]
) -> dict[str, Any]:
    """Calibrate every predictor on the labelled `sets` (LabelledSet) made with `settings`."""
    per_set = {s.name: run(s.x).scores(s.y) for s in sets}
    names = list(next(iter(per_set.values())))
    predictors = {
        name: calibrate({k: v[name] for k, v in per_set.items()}).to_dict() for name in names
    }
    accuracy = {k: {n: round(v[n].accuracy, 4) for n in names} for k, v in per_set.items()}
    return {"format": FORMAT, "generator": settings, "predictors": predictors,
            "calibration_accuracy": accuracy}  # fmt: skip


def calibrated_as(card, pairs: int) -> bool:
    """Whether `card` carries a calibration of this format on `pairs` pairs per set (0: none
    is wanted, so any will do); otherwise registering the ensemble again calibrates it anew."""
    if pairs == 0:
        return True
    held = card.get(SECTION)
    if not isinstance(held, dict):
        return False
    return held.get("format") == FORMAT and held.get("generator", {}).get("pairs") == pairs


def estimates(record: dict[str, Any], outputs: Outputs) -> list[dict[str, Any]]:
    """One row per predictor: estimated accuracy, interval, method, what it was calibrated on."""
    fitted = {k: Fitted.from_dict(v) for k, v in record["predictors"].items()}
    shifts = ", ".join(s["name"] for s in record["generator"]["shifts"])
    on = f"{len(record['generator']['shifts'])} generated sets of {record['generator']['pairs']} " \
         f"labelled pairs ({shifts}), seed {record['generator']['seed']}"  # fmt: skip
    rows = []
    for name, scores in outputs.scores().items():
        if name not in fitted:
            raise KeyError(f"the calibration has no predictor {name!r}")
        row = {"predictor": name, **fitted[name].estimate(scores)}
        row["calibrated_on"] = on
        rows.append(row)
    return rows
