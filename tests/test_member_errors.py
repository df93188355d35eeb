"""The member-error benchmark's summary: error correlation split by kind, and the pairs no
combination of members can fix."""

import numpy as np
import pytest

from benchmarks.member_errors import error_summary


def test_errors_are_split_by_kind_and_all_wrong_pairs_counted():
    rng = np.random.default_rng(0)
    shared = rng.random(20_000) < 0.2  # the errors two seeds of one kind share
    a, b = shared | (rng.random(20_000) < 0.05), shared | (rng.random(20_000) < 0.05)
    c = rng.random(20_000) < 0.2  # another kind, errs on its own
    summary = error_summary(np.column_stack([a, b, c]), ["resnet", "resnet", "fpn"])
    assert summary["same_kind"]["pairs"] == 1 and summary["different_kind"]["pairs"] == 2
    assert summary["same_kind"]["mean"] > 0.7
    assert summary["different_kind"]["mean"] == pytest.approx(0.0, abs=0.03)
    all_wrong = float((a & b & c).mean())
    assert summary["all_wrong"] == pytest.approx(all_wrong, abs=1e-4)
    assert sum(summary["share_by_members_wrong"]) == pytest.approx(1.0, abs=1e-3)


def test_one_kind_only_has_no_cross_kind_figure():
    wrong = np.random.default_rng(1).random((500, 2)) < 0.3
    assert error_summary(wrong, ["x", "x"])["different_kind"] == {"pairs": 0}
