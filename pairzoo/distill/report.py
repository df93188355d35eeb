"""What distillation kept: student vs ensemble vs the ensemble's best single member, and the cost.

Everything runs through onnxruntime: the members and the student as ONNX sessions, the ensemble
as its members' logits through its meta-learner, exactly as `pairzoo predict --ensemble` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pairzoo.distill.teacher import ensemble_proba
from pairzoo.ensemble.members import Member
from pairzoo.metrics import accuracy, sigmoid
from pairzoo.runtime.logits import DEFAULT_BATCH, logit_matrix

SPEED_PAIRS = 2000
VAL_NOTE = (
    "the ensemble's meta-learner was fitted on val, so its val accuracy here is in-sample "
    "(its card's out-of-fold figure is ensemble_val_out_of_fold); test_public is the fair comparison"
)


@dataclass(frozen=True)
class Contest:
    """Student and ensemble, and how both run: the same batches, the ensemble's members side by
    side (`workers`), the student with `threads` intra-op threads."""

    ensemble: Any  # a loaded ensemble (pairzoo.ensemble.members.LoadedEnsemble)
    student: Member
    batch_size: int
    workers: int
    threads: int


def score_split(c: Contest, x, y) -> dict:
    """Accuracy of the student, the ensemble and every member on one labelled split."""
    proba, member_logits, _ = ensemble_proba(c.ensemble, x, c.batch_size, c.workers, c.threads)
    student_logits = logit_matrix([c.student], x, c.batch_size).logits[:, 0]
    return {
        "pairs": int(len(y)),
        "student": accuracy(y, sigmoid(student_logits)),
        "ensemble": accuracy(y, proba),
        "members": {
            m.ref: accuracy(y, sigmoid(member_logits[:, j]))
            for j, m in enumerate(c.ensemble.members)
        },
    }


def gain_kept(student: float, ensemble: float, best_single: float) -> float | None:
    """(student - best single) / (ensemble - best single); None unless the ensemble is better."""
    margin = ensemble - best_single
    return (student - best_single) / margin if margin > 0 else None


def measure_speed(c: Contest, x, repeats: int = 2) -> dict[str, Any]:
    """Pairs per second of ensemble and student on the same pairs, alternated, best of `repeats`."""
    batch_size, workers, threads = c.batch_size, c.workers, c.threads
    ensemble_s, student_s = [], []
    for _ in range(repeats):
        ensemble_s.append(ensemble_proba(c.ensemble, x, batch_size, workers, threads)[2])
        student_s.append(logit_matrix([c.student], x, batch_size).wall_seconds)
    n = len(x)
    ens, stu = n / min(ensemble_s), n / min(student_s)
    return {
        "pairs": int(n),
        "batch_size": batch_size,
        "threads": threads,
        "how": f"student: one session, {threads} intra-op thread(s); ensemble: {workers} member(s) "
        "at a time, one thread each, then the meta-learner",
        "student_pairs_per_s": round(stu, 1),
        "ensemble_pairs_per_s": round(ens, 1),
        "speedup": round(stu / ens, 2),
    }


def build_report(
    loaded,
    student: Member,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    threads: int,
    batch_size: int = DEFAULT_BATCH,
    student_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report: `splits` maps "val" (required) and "test_public" to (x uint8, y)."""
    contest = Contest(loaded, student, batch_size, max(1, threads), threads)
    scores = {name: score_split(contest, x, y) for name, (x, y) in splits.items()}
    best = max(scores["val"]["members"], key=scores["val"]["members"].get)  # chosen on val
    accuracies = {}
    for name, s in scores.items():
        single = s["members"][best]
        accuracies[name] = {
            "pairs": s["pairs"],
            "student": s["student"],
            "ensemble": s["ensemble"],
            "best_single": single,
            "gain_kept": gain_kept(s["student"], s["ensemble"], single),
        }
    member_macs = [m.macs_per_pair for m in loaded.members]
    ensemble_macs = sum(member_macs) if all(isinstance(v, int) for v in member_macs) else None
    student_macs = student.macs_per_pair
    x_val = splits["val"][0][:SPEED_PAIRS]
    return {
        "student": {"ref": student.ref, **(student_info or {}), "macs_per_pair": student_macs},
        "ensemble": {
            "ref": loaded.card.ref,
            "members": len(loaded.members),
            "macs_per_pair": ensemble_macs,
            "val_out_of_fold": loaded.card.metrics_of("val").get("accuracy"),
        },
        "best_single": {
            "ref": best,
            "chosen_on": "val",
            "macs_per_pair": next(m.macs_per_pair for m in loaded.members if m.ref == best),
        },
        "accuracy": {"val": accuracies["val"], "test_public": accuracies.get("test_public")},
        "members_accuracy": {name: s["members"] for name, s in scores.items()},
        "cost": {
            "student_macs_per_pair": student_macs,
            "ensemble_macs_per_pair": ensemble_macs,
            "macs_ensemble_over_student": round(ensemble_macs / student_macs, 2)
            if ensemble_macs and student_macs
            else None,
            "speed": measure_speed(contest, x_val),
        },
        "note": VAL_NOTE,
    }


def format_report(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    rows = [f"{'':<14}{'student':>9}{'ensemble':>10}{'best single':>13}{'gain kept':>11}"]
    for split in ("val", "test_public"):
        a = report["accuracy"].get(split)
        if a is None:
            continue
        gain = "-" if a["gain_kept"] is None else f"{a['gain_kept']:.2f}"
        rows.append(
            f"{split:<14}{a['student']:>9.4f}{a['ensemble']:>10.4f}{a['best_single']:>13.4f}{gain:>11}"
        )
    cost, speed = report["cost"], report["cost"]["speed"]
    rows.append(
        f"student {report['student']['ref']}, ensemble {report['ensemble']['ref']} "
        f"({report['ensemble']['members']} members), best single {report['best_single']['ref']} (on val)"
    )
    if cost["macs_ensemble_over_student"] is not None:
        rows.append(
            f"MACs per pair: student {cost['student_macs_per_pair'] / 1e6:.2f}M, ensemble "
            f"{cost['ensemble_macs_per_pair'] / 1e6:.2f}M (ensemble/student {cost['macs_ensemble_over_student']:.1f}x)"
        )
    rows.append(
        f"speed on {speed['pairs']} val pairs, {speed['threads']} thread(s): student "
        f"{speed['student_pairs_per_s']:.0f} pairs/s, ensemble {speed['ensemble_pairs_per_s']:.0f} "
        f"pairs/s (student/ensemble {speed['speedup']:.1f}x)"
    )
    return "\n".join(rows)
