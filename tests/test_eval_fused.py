"""`ensemble eval` runs members of one shape fused where asked or faster, with the same logits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_pairs
from fuse_fixtures import FPN, RESNET, WIDER, random_member, register_models

from pairzoo.ensemble import fused_members
from pairzoo.ensemble.fused_members import FUSED_GATE, plan_fusion
from pairzoo.ensemble.members import load_members, member_refs
from pairzoo.errors import ExportError
from pairzoo.registry import Registry
from pairzoo.runtime.logits import logit_matrix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """Five members: resnets m0, m2, m4 of one shape, fpn m1 and a wider resnet m3."""
    tmp = tmp_path_factory.mktemp("eval-fused")
    specs = [("resnet", RESNET, 1), ("fpn", FPN, 2), ("resnet", RESNET, 3)]
    specs += [("resnet", WIDER, 4), ("resnet", RESNET, 5)]
    reg = Registry(tmp / "registry")
    register_models(reg, tmp, [random_member(tmp, *spec) for spec in specs])
    x, y, _ = make_pairs(160, seed=5)
    return reg, x, y, tmp


def _members(reg):
    return load_members(reg, member_refs(reg, None))


def test_a_fused_group_fills_its_members_columns_with_their_logits(zoo):
    reg, x, _, _ = zoo
    members = _members(reg)
    plan = plan_fusion(reg, members, x, "always", batch_size=32)
    (group,) = plan.groups
    assert group.columns == [0, 2, 4]
    want = logit_matrix(members, x, 32, workers=1).logits
    for workers in (1, 2):
        got = logit_matrix(members, x, 32, workers, fused=plan.groups)
        np.testing.assert_allclose(got.logits, want, rtol=0, atol=FUSED_GATE)
        assert got.model_seconds[0] == got.model_seconds[2] == got.model_seconds[4]


def test_never_runs_every_member_alone_and_auto_says_what_it_measured(zoo, tmp_path):
    reg, x, _, _ = zoo
    members = _members(reg)
    assert plan_fusion(reg, members, x, "never").groups == []
    cache = tmp_path / "speeds.json"
    auto = plan_fusion(reg, members, x, "auto", batch_size=32, workers=2, cache=cache)
    assert not auto.record["cached"]
    again = plan_fusion(reg, members, x, "auto", batch_size=32, workers=2, cache=cache)
    assert again.record == {**auto.record, "cached": True}  # read back, not measured again
    other = plan_fusion(reg, members, x, "auto", batch_size=16, workers=2, cache=cache)
    assert not other.record["cached"]  # another layout measures afresh
    speeds = auto.record["pairs_per_s"]
    assert set(speeds) == {"separate", "fused", "whole"}
    fastest = max(("fused", "whole"), key=speeds.get)
    faster = speeds[fastest] >= fused_members.MIN_GAIN * speeds["separate"]
    assert auto.record["members"] == (fastest if faster else "separate")
    assert bool(auto.groups) == faster
    (row,) = auto.record["groups"]
    assert row["members"] == ["m0@1", "m2@1", "m4@1"] and row["max_abs_diff"] <= FUSED_GATE


def test_a_group_that_fails_the_gate_runs_separate_or_is_refused(zoo, monkeypatch):
    reg, x, _, _ = zoo
    members = _members(reg)
    monkeypatch.setattr(fused_members, "FUSED_GATE", -1.0)  # every difference fails
    auto = plan_fusion(reg, members, x, "auto", batch_size=32)
    assert auto.groups == [] and auto.record["members"] == "separate"
    assert auto.record["groups"][0]["failed_gate"]
    with pytest.raises(ExportError, match="m0@1, m2@1, m4@1 fused: logits differ"):
        plan_fusion(reg, members, x, "always", batch_size=32)


def test_int8_members_stay_alone_and_two_runtimes_make_two_groups(zoo):
    from pairzoo.ensemble.variants import INT8, Choice
    from pairzoo.runtime.choice import RuntimeChoice

    reg, x, _, _ = zoo
    members = _members(reg)
    members[2].choice = Choice("always", INT8, None)
    members[4].runtime = RuntimeChoice("always", "ort-basic", None, threads=1)
    assert plan_fusion(reg, members, x, "always").groups == []  # m0 has no partner left
    members[4].runtime = None
    (group,) = plan_fusion(reg, members, x, "always", batch_size=32).groups
    assert group.columns == [0, 4] and group.runtime == "ort"
    members = _members(reg)
    for j in (2, 4):
        members[j].runtime = RuntimeChoice("always", "ort-basic", None, threads=1)
    plan = plan_fusion(reg, members, x, "always", batch_size=32)
    (group,) = plan.groups  # m0 alone in onnxruntime's defaults; m2 and m4 fused in theirs
    assert group.columns == [2, 4] and group.runtime == "ort-basic"
    assert plan.record["groups"][0]["runtime"] == "ort-basic"
    want = logit_matrix(members, x, 32, workers=1).logits
    got = logit_matrix(members, x, 32, workers=1, fused=plan.groups).logits
    np.testing.assert_allclose(got, want, rtol=0, atol=FUSED_GATE)


def _openvino_bf16(members) -> None:
    """Every member as if the runtime choice had put it in OpenVINO bf16 (skips without it)."""
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    from pairzoo.runtime.backends import _openvino_capabilities
    from pairzoo.runtime.choice import RuntimeChoice

    if "BF16" not in _openvino_capabilities():
        pytest.skip("this CPU has no bf16 support that OpenVINO uses")
    for m in members:
        m.runtime = RuntimeChoice("always", "openvino-bf16", None, threads=1)


def test_members_in_openvino_bf16_fuse_there_held_to_the_flip_gate(zoo, monkeypatch):
    from pairzoo.runtime import choice

    reg, x, _, _ = zoo
    members = _members(reg)
    want = logit_matrix(members, x, 32, workers=1).logits  # onnxruntime fp32, separate
    _openvino_bf16(members)
    monkeypatch.setattr(choice, "BF16_FLIPS", 1.0)  # random members: any flips pass
    plan = plan_fusion(reg, members, x, "always", batch_size=32)
    (group,) = plan.groups
    assert group.columns == [0, 2, 4] and group.runtime == "openvino-bf16"
    got = logit_matrix(members, x, 32, workers=2, fused=plan.groups).logits[:, [0, 2, 4]]
    np.testing.assert_allclose(got, want[:, [0, 2, 4]], rtol=0.05, atol=0.05)  # bf16's rounding
    monkeypatch.setattr(choice, "BF16_FLIPS", -1.0)  # every share fails
    auto = plan_fusion(reg, members, x, "auto", batch_size=32, runtime="openvino-bf16")
    assert (
        auto.groups == [] and "in openvino-bf16, flips" in auto.record["groups"][0]["failed_gate"]
    )
    with pytest.raises(ExportError, match="m0@1, m2@1, m4@1 fused: in openvino-bf16, flips"):
        plan_fusion(reg, members, x, "always", batch_size=32)


def test_ensemble_eval_fused_reports_it_and_scores_as_separate(zoo):
    from pairzoo.cli import main
    from pairzoo.data.format import save_split

    reg, x, y, tmp = zoo
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    save_split(data / "val.npz", x, [f"VAL_{i:07d}" for i in range(len(x))], y=y)
    reports = {}
    for fuse in ("always", "never"):
        out = tmp / f"report-{fuse}"
        args = ["ensemble", "eval", "--registry", str(reg.root), "--data", str(data)]
        args += ["--out", str(out), "--no-register", "--trees", "10", "--fuse", fuse]
        args += ["--runtime", "ort"]  # where OpenVINO is installed, auto may pick it: never fused
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert f"members: {'fused' if fuse == 'always' else 'separate'}" in result.output
        reports[fuse] = json.loads((out / "report.json").read_text())
    assert reports["always"]["fuse"]["members"] == "fused"
    rows = {f: {r["method"]: r["val"] for r in reports[f]["leaderboard"]} for f in reports}
    assert rows["always"].keys() == rows["never"].keys()
    for method, val in rows["always"].items():  # logits within the gate: the same labels
        assert val["accuracy"] == rows["never"][method]["accuracy"], method
        assert val["roc_auc"] == pytest.approx(rows["never"][method]["roc_auc"], abs=1e-3)


def test_predict_runs_members_fused_as_eval_does_and_says_how(zoo, tmp_path):
    from pairzoo.cli import main
    from pairzoo.data.format import save_split

    reg, x, y, tmp = zoo
    data = tmp_path / "data"
    data.mkdir()
    save_split(data / "val.npz", x, [f"VAL_{i:07d}" for i in range(len(x))], y=y)
    args = ["ensemble", "eval", "--registry", str(reg.root), "--data", str(data), "--trees", "10"]
    args += ["--out", str(tmp_path / "report"), "--runtime", "ort"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summaries, labels = {}, {}
    for fuse in ("always", "never"):
        out = tmp_path / f"pred-{fuse}.csv"
        args = ["predict", "--ensemble", "--data", str(data / "val.npz"), "--out", str(out)]
        args += ["--registry", str(reg.root), "--runtime", "ort", "--fuse", fuse, "--json"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        summaries[fuse] = json.loads(result.output)
        labels[fuse] = out.read_text()
    assert summaries["always"]["members"] == "fused"
    assert summaries["never"]["members"] == "separate"
    assert summaries["always"]["runtimes"] == {"ort": 5}
    assert labels["always"] == labels["never"]  # fused logits within the gate: the same labels


def _whole_fastest(monkeypatch) -> None:
    """Timings in which every member in one graph wins, whatever this machine measures."""
    monkeypatch.setattr(
        fused_members,
        "_speeds",
        lambda members, layouts, *a: {k: 1.0 + 2 * (k == "whole") for k in layouts},
    )


def test_every_fp32_member_in_one_graph_gives_their_logits_and_says_where_it_ran(
    zoo, monkeypatch, tmp_path
):
    reg, x, y, _ = zoo
    members = _members(reg)
    own = [m.runtime for m in members]
    _whole_fastest(monkeypatch)
    plan = plan_fusion(reg, members, x, "auto", batch_size=32, cache=tmp_path / "s.json", y=y)
    assert plan.record["members"] == "whole"
    (group,) = plan.groups  # three shapes, one graph
    assert group.columns == [0, 1, 2, 3, 4]
    row = plan.record["whole"]
    assert row["members"] == [f"m{i}@1" for i in range(5)] and row["runtime"] == group.runtime
    assert row["gated_on"] == {"pairs": len(x), "labels": True}
    want = logit_matrix(members, x, 32, workers=1).logits
    got = logit_matrix(members, x, 32, workers=2, fused=plan.groups).logits
    tol = FUSED_GATE if group.choice.runtime.precision == "fp32" else 0.05
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    ran = plan.ran_in(members)
    assert all(m.runtime.chosen == group.runtime for m in ran)
    assert [m.runtime for m in members] == own  # the members' own choice is kept


def test_one_graph_leaves_int8_members_out_and_is_not_tried_where_runtimes_are_forced(
    zoo, monkeypatch, tmp_path
):
    from pairzoo.ensemble.variants import INT8, Choice

    reg, x, _, _ = zoo
    members = _members(reg)
    _whole_fastest(monkeypatch)
    forced = plan_fusion(reg, members, x, "auto", batch_size=32, runtime="ort")
    assert "whole" not in forced.record and forced.record["members"] != "whole"
    members[1].choice = Choice("always", INT8, None)
    plan = plan_fusion(reg, members, x, "auto", batch_size=32, cache=tmp_path / "s.json")
    (group,) = plan.groups
    assert group.columns == [0, 2, 3, 4]
    assert plan.record["whole"]["gated_on"] == {"pairs": len(x), "labels": False}
    assert plan.ran_in(members)[1].runtime is members[1].runtime  # int8: not moved


def test_one_graph_that_fails_the_fp32_gate_is_not_run(zoo, monkeypatch):
    reg, x, _, _ = zoo
    members = _members(reg)
    _whole_fastest(monkeypatch)
    monkeypatch.setattr(fused_members, "FUSED_GATE", -1.0)
    plan = plan_fusion(reg, members, x, "auto", batch_size=32)
    assert plan.groups == [] and plan.record["members"] == "separate"
    assert "logits differ" in plan.record["whole"]["failed_gate"]
