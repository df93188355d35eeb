"""`pairzoo eval --ensemble` end to end on a registry of really trained and exported models."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from export_fixtures import make_data, train_tiny

from pairzoo.cli import main
from pairzoo.ensemble.plots import PLOTS
from pairzoo.registry import Registry

NAMES = ("b0", "b1", "b2")  # three seeds of the cheapest architecture


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from pairzoo.exporting import export_run

    tmp = tmp_path_factory.mktemp("ensemble_cli")
    data = make_data(tmp / "data", n_train=64, n_val=60, n_test=20)
    reg = Registry(tmp / "registry")
    for i, name in enumerate(NAMES):
        run = train_tiny(tmp / "runs" / name, data, "baseline", seed=i)
        export_run(run, reg, name=name, data_dir=data)
    return reg, data, tmp


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_eval_ensemble_prints_the_leaderboard_and_writes_report_plots_and_entry(zoo):
    reg, data, tmp = zoo
    out = tmp / "report"
    result = invoke(
        "eval",
        "--ensemble",
        "--all",
        "--registry",
        reg.root,
        "--data",
        data,
        "--out",
        out,
        "--trees",
        20,
    )
    assert result.exit_code == 0, result.output
    for name in (
        "b0@1",
        "b1@1",
        "b2@1",
        "best single",
        "mean probability",
        "accuracy-weighted mean",
        "majority vote",
        "stacking (logistic regression)",
        "greedy selection (Caruana)",
        "stacking (LightGBM)",
    ):
        assert name in result.output
    assert result.output.count("\n* ") == 1  # exactly one winner is starred
    assert "registered ensemble@1" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"] == {"val": 60, "test_public": 20}
    assert [m["name"] for m in report["members"]] == list(NAMES)
    winners = [r for r in report["leaderboard"] if r["winner"]]
    assert len(winners) == 1 and winners[0]["method"] == report["winner"]
    best_val = max(r["val"]["accuracy"] for r in report["leaderboard"])
    assert winners[0]["val"]["accuracy"] == best_val
    assert all(r["test_public"] is not None for r in report["leaderboard"])
    assert report["throughput"]["pairs_per_second"] > 0
    assert "| **" in (out / "report.md").read_text()
    for png in PLOTS.values():
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "meta_learner.txt").read_text().startswith("tree")
    card = reg.resolve("ensemble")
    assert card["kind"] == "ensemble" and set(card["files"]) == {"meta_learner.txt", "report.json"}
    members = {m["name"]: m for m in card["members"]}
    for name in NAMES:
        model = reg.resolve(name)
        assert members[name] == {
            "name": name,
            "version": 1,
            "sha256": model["files"]["model.onnx"]["sha256"],
        }


def test_eval_ensemble_json_and_chosen_members(zoo):
    reg, data, tmp = zoo
    result = invoke(
        "eval",
        "--ensemble",
        "--models",
        "b1,b2@1",
        "--registry",
        reg.root,
        "--data",
        data,
        "--out",
        tmp / "two",
        "--json",
        "--no-register",
        "--trees",
        10,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [m["name"] for m in report["members"]] == ["b1", "b2"]
    assert "entry" not in report


def test_eval_ensemble_errors_are_one_line(zoo, tmp_path):
    reg, data, _ = zoo
    result = invoke(
        "eval",
        "--ensemble",
        "--registry",
        tmp_path / "empty",
        "--data",
        data,
        "--out",
        tmp_path / "o",
    )
    assert result.exit_code == 1 and "has no model entries" in result.output
    assert "Traceback" not in result.output
    result = invoke(
        "eval", "--ensemble", "--all", "--models", "b2", "--registry", reg.root, "--data", data
    )
    assert result.exit_code == 2 and "not both" in result.output
    result = invoke("eval", "--data", data)
    assert result.exit_code == 2 and "--ensemble" in result.output


def test_a_forced_runtime_that_is_not_installed_is_one_line(zoo, tmp_path, monkeypatch):
    import pairzoo.runtime.backends as runtimes

    monkeypatch.setattr(runtimes, "unavailable", lambda runtime, model=None: "not here")
    reg, data, _ = zoo
    args = ["--registry", reg.root, "--data", data, "--out", tmp_path / "o", "--no-register"]
    result = invoke("eval", "--ensemble", "--runtime", "openvino-fp32", *args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--runtime openvino-fp32 cannot run" in result.output and "not here" in result.output


def test_export_and_predict_with_the_registered_ensemble(zoo):
    reg, data, tmp = zoo
    if not reg.list(kind="ensemble"):
        pytest.skip("needs the ensemble of the first test")
    out = tmp / "export" / "ensemble.onnx"
    result = invoke(
        "export", "--ensemble", "ensemble", "--registry", reg.root, "--data", data, "--out", out
    )
    assert result.exit_code == 0, result.output
    # fp32 members separate: probabilities; fused (where OpenVINO makes fusing pay): decisions
    gate = "0 label mismatches" in result.output or (
        "decisions against the Python path" in result.output and "allowed" in result.output
    )
    assert out.is_file() and gate, result.output
    pred = tmp / "pred.csv"
    result = invoke(
        "predict",
        "--ensemble",
        "--registry",
        reg.root,
        "--data",
        data / "test_public.npz",
        "--out",
        pred,
    )
    assert result.exit_code == 0, result.output
    assert len(pred.read_text().splitlines()) == 21


def test_export_quantize_int8_takes_one_run(zoo):
    # int8 registered within the gate and refused below it: test_quantize_cli.py
    reg, _, tmp = zoo
    result = invoke("export", "--all", tmp / "runs", "--quantize", "int8", "--registry", reg.root)
    assert result.exit_code == 2 and "cannot be used with --all" in result.output


def test_the_ensemble_group_does_what_the_mode_options_do(zoo):
    """`pairzoo ensemble eval|export|predict` are the commands `--ensemble` leads to."""
    reg, data, tmp = zoo
    args = ["--registry", reg.root, "--data", data, "--out", tmp / "grp", "--trees", 10]
    result = invoke("ensemble", "eval", "--models", "b0,b1", *args, "--name", "grp", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [m["name"] for m in report["members"]] == ["b0", "b1"] and report["entry"] == "grp@1"
    out = tmp / "grp.onnx"
    result = invoke(
        "ensemble", "export", "grp", "--registry", reg.root, "--data", data, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and "grp@1 as one ONNX graph" in result.output
    pred = tmp / "grp.csv"
    result = invoke(
        "ensemble", "predict", "grp@1", "--registry", reg.root, "--data", data / "val.npz",
        "--out", pred,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "with ensemble grp@1" in result.output and pred.is_file()
    result = invoke("ensemble", "eval", "--all", "--models", "b2", "--registry", reg.root)
    assert result.exit_code == 2 and "not both" in result.output
