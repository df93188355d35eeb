"""Figures of a registered ensemble, measured on that entry as `predict` runs it.

A round's figures describe its in-memory ensemble (PyTorch members, the meta-learner refit in
memory); what a user gets is the exported, re-stacked entry, which can score differently. So the
parent and the adapted entry are measured again here, through predict's own functions: accuracy
on every --score file, and the label-free estimate on every unlabelled file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pairzoo.ensemble.predict import PredictSettings, predict_proba
from pairzoo.estimate.entry import entry_calibration, estimate_pairs, open_entry
from pairzoo.metrics import accuracy
from pairzoo.registry import Registry


def entry_figures(registry: Registry, ref: str, targets: Any, scored: list, pairs: int) -> dict:
    """{entry, score_accuracy {file: accuracy}, estimate {file: rows}} of ensemble `ref`."""
    runner = open_entry(registry, ensemble=ref)
    calibration = entry_calibration(runner, pairs=pairs)
    bounds = np.cumsum([0] + [f["pairs"] for f in targets.files])
    estimate = {
        f["name"]: estimate_pairs(runner, calibration, targets.x[a:b])
        for f, a, b in zip(targets.files, bounds[:-1], bounds[1:], strict=True)
    }
    by_ref = PredictSettings(ensemble=ref)
    score = {
        str(split.path): accuracy(split.y, predict_proba(registry, split.x, by_ref)[0])
        for split in scored
    }
    return {"entry": ref, "score_accuracy": score, "estimate": estimate,
            "calibration": "from the card" if calibration.from_card else "made now"}  # fmt: skip


def ensemble_estimate(rows: list[dict]) -> dict | None:
    """The stacked ensemble's row of an estimate."""
    return next((r for r in rows if r["predictor"] == "ensemble"), None)
