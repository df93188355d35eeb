"""Fused members in a rounding runtime are held to each member's fp32 accuracy, or decisions."""

from __future__ import annotations

import numpy as np

from pairzoo.ensemble.decision_gate import column_gate
from pairzoo.exporting.quantize import MAX_DROP
from pairzoo.runtime.choice import BF16_FLIPS


class _Logits:
    """A session that returns fixed logits (N, members), a batch at a time, as a runtime does."""

    def __init__(self, logits: np.ndarray) -> None:
        self.logits, self.seen = logits, 0

    def get_outputs(self):
        return [type("Out", (), {"name": "logits"})()]

    def run(self, names, feeds):
        n = len(feeds["xa"])
        out = self.logits[self.seen : self.seen + n]
        self.seen += n
        return [out]


N = 1000
X = np.zeros((N, 28, 56), dtype=np.uint8)
Y = np.arange(N) % 2
WANT = np.stack([np.where(Y == 1, 2.0, -2.0)] * 3, axis=1).astype(np.float32)


def _flipped(cols: dict[int, np.ndarray]) -> np.ndarray:
    got = WANT.copy()
    for j, rows in cols.items():
        got[rows, j] *= -1
    return got


def test_flips_that_cost_no_accuracy_pass_with_labels_and_fail_without():
    # member 2 flips 2% of its decisions: half of them now right, half now wrong
    many = int(4 * BF16_FLIPS * N)
    wrong_first = np.arange(many)
    got = _flipped({1: wrong_first})
    got[wrong_first[: many // 2], 1] = WANT[wrong_first[: many // 2], 1] * -1
    # pairs the fp32 member had wrong: make fp32 wrong there, the candidate right
    want = WANT.copy()
    want[wrong_first[many // 2 :], 1] *= -1
    got[wrong_first[many // 2 :], 1] = WANT[wrong_first[many // 2 :], 1]
    assert column_gate(want, X, Y, batch_size=64)(_Logits(got)) is None
    reason = column_gate(want, X, None, batch_size=64)(_Logits(got))
    assert reason is not None and f"of {N} decisions" in reason


def test_a_member_that_loses_more_than_the_allowed_accuracy_is_named():
    lost = int((MAX_DROP + 0.002) * N)
    got = _flipped({2: np.arange(lost)})
    reason = column_gate(WANT, X, Y, batch_size=64)(_Logits(got))
    assert reason is not None and reason.startswith("member 3's accuracy")
    within = _flipped({2: np.arange(int(MAX_DROP * N))})
    assert column_gate(WANT, X, Y, batch_size=64)(_Logits(within)) is None


def test_non_finite_or_misshapen_outputs_fail():
    got = WANT.copy()
    got[5, 0] = np.nan
    assert "values unlike" in column_gate(WANT, X, Y)(_Logits(got))
    assert "shape" in column_gate(WANT, X, None)(_Logits(WANT[:, :2]))
