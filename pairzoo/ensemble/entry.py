"""Record a fitted stacker as a registry ensemble entry, next to its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.ensemble.evaluate import Evaluation
from pairzoo.ensemble.members import META_LEARNER
from pairzoo.registry import Registry
from pairzoo.runtime.signature import ENSEMBLE_SIGNATURE


def ensemble_card(
    ev: Evaluation, data: dict[str, Any] | None = None, estimate: dict[str, Any] | None = None
) -> dict[str, Any]:
    s = ev.stacker
    return {
        "members": [_member(m) for m in ev.members],
        "meta_learner": META_LEARNER,
        "method": "stacking-lightgbm",
        "stacking": ev.params.to_dict(),
        "signature": ENSEMBLE_SIGNATURE,
        "metrics": {"val": s.val, "val_note": "out-of-fold", "test_public": s.test_public},
        "fold_accuracy": s.fold_accuracy,
        "leaderboard_winner": ev.winner.name,
        "macs_per_pair": _macs(ev),
        **({"data": data} if data else {}),
        **({"estimate": estimate} if estimate else {}),
    }


def save_and_register(
    ev: Evaluation,
    out_dir: str | Path,
    registry: Registry | None,
    name: str,
    data: dict[str, Any] | None = None,
    estimate: Any = None,
) -> dict[str, Any] | None:
    """Write meta_learner.txt into `out_dir`; register it (with report.json) unless `registry` is
    None. `estimate(path of meta_learner.txt)` gives the card's calibration section, if any."""
    out = Path(out_dir)
    ev.stacker.final.save(out / META_LEARNER)
    if registry is None:
        return None
    files = {META_LEARNER: out / META_LEARNER}
    if (out / "report.json").exists():
        files["report.json"] = out / "report.json"
    section = estimate(out / META_LEARNER) if estimate is not None else None
    return registry.add_entry(name, "ensemble", files, ensemble_card(ev, data, section))


def _member(m) -> dict[str, Any]:
    """The member the meta-learner was fitted on; with both variants, so that each machine can
    run the one faster there."""
    out = {"name": m.name, "version": m.version, "sha256": m.sha256}
    if m.variant and m.variant.get("int8"):
        out["variants"] = {"fp32": m.variant["fp32"], "int8": m.variant["int8"]}
        out["variant_fitted"] = m.variant["chosen"]
    return out


def _macs(ev: Evaluation) -> int | None:
    macs = [m.macs_per_pair for m in ev.members]
    return sum(macs) if all(isinstance(v, int) for v in macs) else None
