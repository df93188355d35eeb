import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from export_fixtures import shared_run

from pairzoo.cli import main
from pairzoo.exporting import export_all
from pairzoo.registry import Registry


def perturbed_copy(run, dest, delta=0.01):
    """A copy of `run` with the same config and slightly different weights (as if retrained)."""
    dest = shutil.copytree(run, dest)
    saved = torch.load(dest / "model.pt", weights_only=True)
    saved["state_dict"] = {
        k: v + delta if v.is_floating_point() else v for k, v in saved["state_dict"].items()
    }
    torch.save(saved, dest / "model.pt")
    return dest


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("all") / "runs"
    a = shutil.copytree(shared_run(tmp_path_factory, "baseline"), runs / "a")
    perturbed_copy(a, runs / "b")
    unfinished = shutil.copytree(a, runs / "c-unfinished")
    metrics = json.loads((unfinished / "metrics.json").read_text())
    (unfinished / "metrics.json").write_text(json.dumps({**metrics, "finished": False}))
    (runs / "notes").mkdir()
    return runs


def test_export_all_exports_each_new_run_once(runs_dir, tmp_path):
    reg_dir = tmp_path / "reg"
    result = CliRunner().invoke(
        main, ["export", "--all", str(runs_dir), "--registry", str(reg_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "2 exported, 2 skipped, 0 failed" in result.output
    assert "run not finished" in result.output and "not a run" in result.output
    reg = Registry(reg_dir)
    first, second = reg.list()
    assert (first["version"], second["version"]) == (1, 2)  # same name, different weights
    assert first["source"]["config_hash"] == second["source"]["config_hash"]
    assert first["source"]["model_pt_sha256"] != second["source"]["model_pt_sha256"]

    again = export_all(runs_dir, reg_dir)
    assert [r["status"] for r in again] == ["skipped"] * 4
    assert "already registered as baseline@1" in again[0]["reason"]

    # a copy of a registered run is recognised by config hash and weights, wherever it lives
    shutil.copytree(runs_dir / "b", tmp_path / "runs2" / "b-copy")
    perturbed_copy(runs_dir / "a", tmp_path / "runs2" / "c-retrained", delta=0.02)
    results = export_all(tmp_path / "runs2", reg_dir)
    assert [(r["status"], r.get("ref") or r["reason"]) for r in results] == [
        ("skipped", "already registered as baseline@2"),
        ("exported", "baseline@3"),
    ]


def test_export_all_reports_failures_and_continues(runs_dir, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_dir / "a", runs / "a")
    broken = shutil.copytree(runs_dir / "a", runs / "broken")
    (broken / "model.pt").write_bytes((broken / "model.pt").read_bytes()[:100])
    result = CliRunner().invoke(
        main, ["export", "--all", str(runs), "--registry", str(tmp_path / "reg")]
    )
    assert result.exit_code == 1
    assert "1 exported, 0 skipped, 1 failed" in result.output
    assert "corrupted or truncated" in result.output
    assert [c["name"] for c in Registry(tmp_path / "reg").list()] == ["baseline"]


def test_export_all_usage_errors(tmp_path):
    result = CliRunner().invoke(main, ["export", "--all", str(tmp_path), "--name", "x"])
    assert result.exit_code == 2 and "--name" in result.output
    result = CliRunner().invoke(
        main, ["export", "--all", str(tmp_path / "none"), "--registry", str(tmp_path)]
    )
    assert result.exit_code == 1 and "does not exist" in result.output
