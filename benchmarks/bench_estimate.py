"""The label-free estimator's own cost on this CPU: 10,000 pairs of an 11-member ensemble.

Model inference is `predict`'s cost and is left out; timed here are the estimator's steps on
member logits: calibrating every predictor on six sets of 1,000 labelled pairs (leave one set
out, four methods), and the estimate for a file of 10,000 pairs. Best of three rounds (the
machine may be shared). Prints a JSON record naming the CPU.
"""

from __future__ import annotations

import json
import time

import numpy as np

MEMBERS, PAIRS, SETS, SET_PAIRS, ROUNDS = 11, 10_000, 6, 1000, 3


def _outputs(n: int, signal: float, seed: int):
    from pairzoo.estimate.outputs import ensemble_outputs

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    logits = signal * (2 * y[:, None] - 1) + rng.normal(0, 1, (n, MEMBERS))
    proba = 1 / (1 + np.exp(-logits.mean(axis=1)))
    return ensemble_outputs([f"m{j}@1" for j in range(MEMBERS)], logits, proba), y


def _best(fn) -> float:
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    from pairzoo.estimate.calibration import calibrate
    from pairzoo.estimate.record import estimates
    from pairzoo.machine import this_cpu

    sets = {f"s{i}": _outputs(SET_PAIRS, 0.3 + 0.4 * i, i) for i in range(SETS)}

    def calibration():
        scores = {k: out.scores(y) for k, (out, y) in sets.items()}
        names = list(next(iter(scores.values())))
        return {n: calibrate({k: s[n] for k, s in scores.items()}).to_dict() for n in names}

    record = {"predictors": calibration(),
              "generator": {"shifts": [{"name": k} for k in sets], "pairs": SET_PAIRS, "seed": 0}}  # fmt: skip
    target, _ = _outputs(PAIRS, 1.0, 99)
    calibrate_s = _best(calibration)
    estimate_s = _best(lambda: estimates(record, target))
    print(json.dumps({
        "benchmark": "estimate",
        "cpu": this_cpu().describe(),
        "members": MEMBERS,
        "calibration_sets": f"{SETS} x {SET_PAIRS} pairs",
        "calibrate_s": round(calibrate_s, 4),
        "pairs": PAIRS,
        "estimate_s": round(estimate_s, 4),
        "estimate_us_per_pair": round(estimate_s / PAIRS * 1e6, 3),
        "note": "member inference excluded (predict's cost); best of 3 rounds",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
