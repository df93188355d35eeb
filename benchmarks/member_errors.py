"""How alike an ensemble's members err, which bounds what stacking them can add.

`python -m benchmarks.member_errors --registry R --data D [--ensemble ENTRY]`: PAIRS labelled
pairs made like the data (its corruption file at its severity) from its held-out digits; for
each member its accuracy, and over pairs of members the correlation of their errors, split into
pairs of the same kind (architecture, layers, width and heads alike: they differ in seed) and
pairs of different kinds. Also the share of pairs every member gets wrong (no combination of
their labels can fix them), the mean logit and the stacked ensemble. Prints a table and a JSON
record naming the CPU.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

PAIRS = 4000
SEED = 11  # neither the calibration's nor the estimate benchmark's


def member_kind(card) -> str:
    """The architecture and every parameter of it: members of one kind differ in seed only."""
    arch = card.get("architecture") or {}
    params = arch.get("params") or {}
    shown = [f"{k}={params[k]}".replace(" ", "") for k in sorted(params) if k != "head_params"]
    return " ".join([str(arch.get("name")), *shown])


def error_summary(wrong: np.ndarray, kinds: list[str]) -> dict:
    """`wrong`: bool (pairs, members). Error correlation over member pairs, by kind."""
    corr = np.corrcoef(wrong.T.astype(np.float64))
    same, other = [], []
    for i in range(len(kinds)):
        for j in range(i + 1, len(kinds)):
            (same if kinds[i] == kinds[j] else other).append(float(corr[i, j]))
    counts = np.bincount(wrong.sum(axis=1), minlength=wrong.shape[1] + 1) / len(wrong)
    return {
        "same_kind": _spread(same),
        "different_kind": _spread(other),
        "all_wrong": round(float(counts[-1]), 4),
        "all_right": round(float(counts[0]), 4),
        "share_by_members_wrong": [round(float(c), 4) for c in counts],
    }


def _spread(values: list[float]) -> dict:
    if not values:
        return {"pairs": 0}
    return {"pairs": len(values), "mean": round(float(np.mean(values)), 3),
            "min": round(min(values), 3), "max": round(max(values), 3)}  # fmt: skip


def main(argv=None) -> None:
    from pairzoo.data.meta import read_meta
    from pairzoo.estimate.entry import open_entry
    from pairzoo.estimate.shifts import calibration_sets
    from pairzoo.machine import this_cpu
    from pairzoo.registry import Registry

    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", required=True)
    ap.add_argument("--data", required=True, help="labelled data dir made by the generator")
    ap.add_argument("--ensemble", default=None)
    ap.add_argument("--pairs", type=int, default=PAIRS)
    args = ap.parse_args(argv)
    severity = float(read_meta(args.data).get("severity", 6.0))
    shift = (f"default-{severity:g}", None, severity)
    (labelled,), settings = calibration_sets(args.data, args.pairs, SEED, (shift,))
    runner = open_entry(Registry(args.registry), ensemble=args.ensemble, threads=2)
    out = runner(labelled.x)
    truth = labelled.y == 1
    right = (out.logits > 0) == truth[:, None]
    members = out.names[: out.members]
    kinds = [member_kind(m.card) for m in runner.members]
    accuracy = right.mean(axis=0)
    mean_logit = float(((out.logits[:, : out.members].mean(axis=1) > 0) == truth).mean())
    summary = error_summary(~right[:, : out.members], kinds)
    print("| member | kind | accuracy % |")
    print("| --- | --- | --- |")
    for name, kind, acc in zip(members, kinds, accuracy, strict=False):
        print(f"| {name} | {kind} | {100 * acc:.2f} |")
    print(json.dumps({
        "entry": runner.card.ref,
        "cpu": this_cpu().describe(),
        "pairs": args.pairs,
        "seed": SEED,
        "shift": settings["shifts"][0],
        "digits": settings["digits"],
        "best_member": round(float(accuracy[: out.members].max()), 4),
        "mean_logit": round(mean_logit, 4),
        "stacked": round(float(accuracy[-1]), 4),
        "error_correlation": {k: summary[k] for k in ("same_kind", "different_kind")},
        "all_wrong": summary["all_wrong"],
        "all_right": summary["all_right"],
        "share_by_members_wrong": summary["share_by_members_wrong"],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
