"""Members of one shape fused into grouped convolutions give the separate members' logits."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from fuse_fixtures import FPN, RESNET, WIDER, random_member, register_models

from pairzoo.ensemble.fuse import OUTPUT, fuse_members, groups_of, stacked_operators

pytestmark = pytest.mark.slow

GATE = 1e-4


def _session(model: onnx.ModelProto):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuse")
    specs = [("resnet", RESNET, 1), ("fpn", FPN, 2), ("resnet", RESNET, 3), ("resnet", WIDER, 4)]
    specs += [("resnet", RESNET, 5), ("fpn", FPN, 6)]
    return [random_member(tmp, arch, params, seed) for arch, params, seed in specs]


def test_members_group_by_structure_not_by_weights(members):
    assert groups_of(members) == [[0, 2, 4], [1, 5], [3]]


@pytest.mark.parametrize("batch", [1, 7, 300])
def test_fused_logits_equal_the_separate_members_in_their_order(members, batch):
    rng = np.random.default_rng(batch)
    xa, xb = (rng.random((batch, 1, 28, 28), dtype=np.float32) for _ in range(2))
    want = np.stack([_session(m).run(None, {"xa": xa, "xb": xb})[0] for m in members], axis=1)
    (got,) = _session(fuse_members(members)).run([OUTPUT], {"xa": xa, "xb": xb})
    assert got.shape == (batch, len(members))
    np.testing.assert_allclose(got, want, rtol=0, atol=GATE)


def test_a_group_runs_as_one_grouped_convolution_per_layer(members):
    resnets = [members[i] for i in (0, 2, 4)]
    fused = fuse_members(resnets)
    convs = [n for n in fused.graph.node if n.op_type == "Conv"]
    one = [n for n in resnets[0].graph.node if n.op_type == "Conv"]
    assert len(convs) == len(one)  # not three times as many
    groups = [next((a.i for a in n.attribute if a.name == "group"), 1) for n in convs]
    assert groups[0] == 1  # the stem reads the shared input: its weights are only stacked
    assert set(groups[1:]) == {3}
    assert stacked_operators(resnets) >= len(convs)


def test_members_of_one_shape_with_nothing_to_stack_gain_nothing(tmp_path):
    from registry_fixtures import tiny_onnx

    tiny = [onnx.load(str(tiny_onnx(tmp_path / f"t{s}.onnx", s))) for s in (1.0, 2.0)]
    assert groups_of(tiny) == [[0, 1]]
    assert stacked_operators(tiny) == 0  # mean(xa - xb) once, each member's own scale after


def test_a_lone_member_is_its_own_model(members):
    (single,) = [members[3]]
    xa = np.ones((2, 1, 28, 28), dtype=np.float32)
    xb = np.zeros_like(xa)
    want = _session(single).run(None, {"xa": xa, "xb": xb})[0]
    (got,) = _session(fuse_members([single])).run([OUTPUT], {"xa": xa, "xb": xb})
    np.testing.assert_allclose(got[:, 0], want, rtol=0, atol=GATE)


@pytest.fixture(scope="module")
def stacked_convs(members, tmp_path_factory):
    """A registry of three resnets of one shape and a wider one, and an ensemble stacking them."""
    from ensemble_fixtures import make_pairs

    from pairzoo.ensemble.entry import save_and_register
    from pairzoo.ensemble.evaluate import evaluate
    from pairzoo.ensemble.members import load_members, member_refs
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    tmp = tmp_path_factory.mktemp("fused-file")
    reg = Registry(tmp / "registry")
    chosen = [members[i] for i in (0, 2, 3, 4)]
    register_models(reg, tmp, chosen)
    x, y, _ = make_pairs(200, seed=3)
    loaded = load_members(reg, member_refs(reg, None))
    ev = evaluate(loaded, x, y, params=StackingParams(n_estimators=20))
    save_and_register(ev, tmp / "report", reg, "stack")
    return reg, x, tmp, chosen


def _layout(path) -> dict:
    import json

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(props["pairzoo_runtime"])["layout"]


@pytest.mark.parametrize("fuse", ["always", "auto"])
def test_the_one_file_fused_or_not_passes_the_gate_and_says_which(stacked_convs, fuse):
    from pairzoo.ensemble.export import export_ensemble
    from pairzoo.ensemble.settings import ExportSettings
    from pairzoo.runtime.runtimes import BASELINE

    reg, x, tmp, chosen = stacked_convs
    out = tmp / f"{fuse}.onnx"
    settings = ExportSettings("stack", out=out, fuse=fuse, runtime=BASELINE)
    result = export_ensemble(reg, settings, x)
    assert result.parity.ok
    assert result.layout == _layout(out) and result.layout["groups"] == [3, 1]
    # fused members sum in another order: held to the Python path's decisions, not 1e-5
    decisions = result.layout.get("decisions")
    assert (decisions is not None) == (result.layout["members"] == "fused")
    assert decisions is None or decisions["flips"] == 0
    members = "fused" if fuse == "always" else result.layout["members"]
    assert result.layout["members"] == members
    convs = sum(n.op_type == "Conv" for n in onnx.load(str(out)).graph.node)
    separate = sum(n.op_type == "Conv" for m in chosen for n in m.graph.node)
    assert (convs < separate) == (members == "fused")
    if fuse == "auto":  # the pick is measured, and both figures are kept
        assert set(result.layout["pairs_per_s"]) == {"fused", "separate"}
