"""A one-file ensemble in rounded arithmetic (bf16, fused members) is held to decisions."""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_fixtures import make_pairs, register_tiny_models

from pairzoo.ensemble.decision_gate import gate_decisions


class Flipping:
    """A one-file session whose label is 1 where the pair's first pixel is odd, flipped on the
    pairs whose first pixel is in `flip`; it fails on batches of `broken` pairs."""

    def __init__(self, flip=(), broken=None):
        self.flip, self.broken = set(flip), broken

    def run(self, names, feeds):
        xa = feeds["xa"]
        if len(xa) == self.broken:
            raise RuntimeError("kernel failed")
        first = np.rint(xa[:, 0, 0, 0] * 255).astype(int)
        label = (first % 2).astype(np.int64)
        label ^= np.isin(first, list(self.flip)).astype(np.int64)
        return [label.astype(np.float32), label]


@pytest.fixture
def pairs():
    x = np.zeros((2000, 28, 56), np.uint8)
    x[:, 0, 0] = np.arange(2000) % 200
    reference = (x[:, 0, 0] % 2).astype(np.float64) * 0.8 + 0.1  # the Python path's
    return x, reference


def test_the_same_decisions_pass_with_or_without_labels(pairs):
    x, reference = pairs
    y = (reference > 0.5).astype(np.int64)
    for labels in (None, y):
        gate = gate_decisions(Flipping(), x, reference, labels)
        assert gate.ok and gate.flips == 0
        assert [r["batch_size"] for r in gate.runs] == [1, 7, 512, 1024, 300]


def test_without_labels_at_most_half_a_percent_may_flip(pairs):
    x, reference = pairs
    few = gate_decisions(Flipping(flip=[0]), x, reference)  # 10 of 2000 pairs: 0.5%
    assert few.flips == 10 and few.ok
    more = gate_decisions(Flipping(flip=[0, 1]), x, reference)
    assert more.flips == 20 and not more.ok
    assert "20 of 2000 val labels flipped (allowed 0.5%)" in more.describe()


def test_with_labels_accuracy_may_drop_half_a_point(pairs):
    x, reference = pairs
    y = (reference > 0.5).astype(np.int64)
    y[np.isin(x[:, 0, 0], [0, 1, 2, 3])] ^= 1  # the Python path is wrong on these 40 pairs
    # flipping them makes the file right where the path is wrong: 2 points better, not worse
    better = gate_decisions(Flipping(flip=[0, 1, 2, 3]), x, reference, y)
    assert better.flips == 40 and better.ok and better.accuracy > better.reference_accuracy
    worse = gate_decisions(Flipping(flip=[4, 5]), x, reference, y)  # 20 pairs: 1 point lower
    assert not worse.ok
    assert "val accuracy 97.00% against the Python path's 98.00%" in worse.describe()


def test_a_run_that_fails_or_flips_many_at_one_batch_size_fails(pairs):
    x, reference = pairs
    broken = gate_decisions(Flipping(broken=7), x, reference)
    assert not broken.ok and "batch 7: the runtime failed (RuntimeError" in broken.describe()

    class WrongAt1024(Flipping):
        def run(self, names, feeds):
            proba, label = super().run(names, feeds)
            return [proba, 1 - label] if len(label) == 1024 else [proba, label]

    wrong = gate_decisions(WrongAt1024(), x, reference)
    assert wrong.flips == 0 and not wrong.ok and "1024: 1024" in wrong.describe()


def test_a_fused_export_is_held_to_decisions_a_separate_one_to_probabilities(tmp_path):
    from pairzoo.ensemble.entry import save_and_register
    from pairzoo.ensemble.evaluate import evaluate
    from pairzoo.ensemble.export import export_ensemble, tree_forms
    from pairzoo.ensemble.members import load_members, member_refs
    from pairzoo.ensemble.settings import ExportSettings
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    reg = Registry(tmp_path / "registry")
    register_tiny_models(reg, tmp_path, 2)
    x, y, _ = make_pairs(300, seed=2)
    members = load_members(reg, member_refs(reg, None))
    ev = evaluate(members, x, y, params=StackingParams(n_estimators=20))
    save_and_register(ev, tmp_path / "report", reg, "stack")
    settings = ExportSettings("stack", out=tmp_path / "plain.onnx", trees="plain", runtime="ort")
    result = export_ensemble(reg, settings, x, y)
    assert result.layout["trees"] == "plain" and "decisions" not in result.layout
    assert result.parity.ok and result.parity.max_abs_diff <= 1e-5
    assert b"ai.onnx.ml" not in (tmp_path / "plain.onnx").read_bytes()
    assert tree_forms("ml") == ["ml"] and tree_forms("auto")[-1] == "ml"
    with pytest.raises(ValueError, match="expected one of auto, ml, plain"):
        tree_forms("trees")


def test_a_judge_runs_each_session_once_and_gives_the_same_verdict(pairs):
    from pairzoo.ensemble.decision_gate import Judge

    x, reference = pairs

    class Counted(Flipping):
        calls = 0

        def run(self, names, feeds):
            Counted.calls += 1
            return super().run(names, feeds)

    judge, session = Judge(x, reference), Counted(flip=[0, 1])
    assert judge(session) == judge.decisions(session).describe() and not judge.decisions(session).ok
    once = Counted.calls
    assert judge(session) is not None and Counted.calls == once
    assert judge(Flipping()) is None
