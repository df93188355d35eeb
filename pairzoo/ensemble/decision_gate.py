"""Gates for files whose arithmetic is not the Python path's: held to decisions, or accuracy.

A file in bf16 rounds every operator, and members fused into grouped convolutions sum in another
order; their logits move by rounding, and a LightGBM split that lies between the two values sends
the pair to another leaf, so probabilities differ by a leaf's weight where the labels hardly
move. Such a file cannot meet the 1e-5 probability gate (pairzoo.ensemble.merged_parity), and is
held instead, as an int8 member is (pairzoo.exporting.quantize), to val accuracy: at most
MAX_DROP below the Python path's. Without val labels it may flip at most BF16_FLIPS of the
Python path's labels (pairzoo.runtime.choice), which bounds the same change. The runs of the
batch sequence together may differ from the file's own labels over all pairs on at most
MAX_RUN_FLIPS of the pairs they ran: a batch size that computes wrongly shows there (pooled, as
a run of one or seven pairs is too few to judge).

Members fused into one graph in such a runtime (pairzoo.ensemble.fused_members) are held alike,
column by column (`column_gate`): with labels, each member's accuracy at most MAX_DROP below its
fp32 accuracy; without, at most BF16_FLIPS of its decisions flipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pairzoo.ensemble.merged_parity import run_merged, run_sequence
from pairzoo.exporting.quantize import MAX_DROP
from pairzoo.metrics import to_labels
from pairzoo.runtime.choice import BF16_FLIPS, flipped_decisions, outputs_of

MAX_RUN_FLIPS = 0.01  # share of the sequence runs' pairs, pooled, whose label may differ


@dataclass
class Decisions:
    """How the file's labels compare with the Python path's over every val pair."""

    pairs: int
    flips: int
    accuracy: float | None  # None: no val labels
    reference_accuracy: float | None
    runs: list[dict] = field(default_factory=list)  # {batch_size, pairs, differ} per sequence run
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        differ, pairs = (sum(r[k] for r in self.runs) for k in ("differ", "pairs"))
        if self.errors or differ > MAX_RUN_FLIPS * pairs:
            return False
        if self.accuracy is None:
            return self.flips <= BF16_FLIPS * self.pairs
        return self.reference_accuracy - self.accuracy <= MAX_DROP + 1e-12

    def describe(self) -> str:
        text = f"{self.flips} of {self.pairs} val labels flipped"
        if self.accuracy is not None:
            text += (
                f", val accuracy {100 * self.accuracy:.2f}% against the Python path's "
                f"{100 * self.reference_accuracy:.2f}% (allowed {100 * MAX_DROP:.1f} points lower)"
            )
        else:
            text += f" (allowed {100 * BF16_FLIPS:.1f}%)"
        runs = ", ".join(f"{r['batch_size']}: {r['differ']}" for r in self.runs)
        if runs:
            text += f"; labels unlike the whole run's, per batch size {runs}"
        return text + "".join(f"; {e}" for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.ok}


def gate_decisions(
    session: Any,
    x: np.ndarray,
    proba_ref: np.ndarray,
    y: np.ndarray | None = None,
    batch_size: int = 256,
) -> Decisions:
    """Run the file in `session` over all of `x` and compare its labels with `proba_ref`'s (and,
    given `y`, both accuracies), then at each size of the batch sequence against its own."""
    want = to_labels(proba_ref)
    errors = []
    try:
        _, labels = run_merged(session, x, batch_size)
    except Exception as exc:  # runtimes raise their own untyped errors
        errors.append(f"all pairs at batch {batch_size}: the runtime failed ({exc})")
        labels = 1 - want
    ran, failed = run_sequence(session, x)
    runs = [
        {"batch_size": size, "pairs": len(idx), "differ": int(np.sum(got != labels[idx]))}
        for size, idx, _, got in ran
    ]
    errors += failed
    accuracy = reference = None
    if y is not None:
        accuracy, reference = float(np.mean(labels == y)), float(np.mean(want == y))
    return Decisions(len(x), int(np.sum(labels != want)), accuracy, reference, runs, errors)


class Judge:
    """`gate_decisions` of one data set, run once per session: a runtime choice calls it as its
    decision gate (pairzoo.runtime.choice), and whoever keeps the session reads the same verdict."""

    def __init__(self, x, proba_ref, y=None, batch_size: int = 256) -> None:
        self.x, self.proba_ref, self.y, self.batch_size = x, proba_ref, y, batch_size
        self._seen: list[tuple[Any, Decisions]] = []  # sessions held: an id is never reused

    def decisions(self, session: Any) -> Decisions:
        for seen, decisions in self._seen:
            if seen is session:
                return decisions
        decisions = gate_decisions(session, self.x, self.proba_ref, self.y, self.batch_size)
        self._seen.append((session, decisions))
        return decisions

    def __call__(self, session: Any) -> str | None:
        """Why the file in `session` fails the gate; None if it passes."""
        decisions = self.decisions(session)
        return None if decisions.ok else decisions.describe()


def column_gate(
    want: np.ndarray, x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 64
) -> Callable[[Any], str | None]:
    """The gate of a file with a logit column per member (fused members) in a runtime that
    rounds otherwise than fp32, against `want`, the members' fp32 logits (N, members) on `x`.

    With labels `y`, as the one file with val labels is: each column's accuracy on `x` at most
    MAX_DROP below its fp32 accuracy. Without: at most BF16_FLIPS of any column's decisions
    flipped. Returns, for a session, why it fails (None: it passes)."""

    def judge(session: Any) -> str | None:
        got = outputs_of(session, x, batch_size=batch_size)
        if y is None or got.shape != want.shape or not np.all(np.isfinite(got)):
            return flipped_decisions(want, got)
        drop = np.mean((want > 0) == y[:, None], axis=0) - np.mean((got > 0) == y[:, None], axis=0)
        worst = int(np.argmax(drop))
        if drop[worst] > MAX_DROP + 1e-12:
            return (
                f"member {worst + 1}'s accuracy on {len(x)} labelled pairs falls "
                f"{100 * drop[worst]:.2f} points (allowed {100 * MAX_DROP:.1f})"
            )
        return None

    return judge
