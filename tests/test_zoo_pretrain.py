"""train-all on data without digit labels: each tower is first trained on generated data that
has them, and the models start from those weights."""

import json

import pytest
from click.testing import CliRunner
from train_fixtures import make_data
from zoo_fixtures import NO_ENSEMBLE, tiny_zoo, write_zoo

from pairzoo.cli import main
from pairzoo.data.meta import sha256_file
from pairzoo.zoo import runner

ZOO = tiny_zoo(
    {
        "a": {"seed": 1},
        "b": {"seed": 2},
        "c": {"arch_params": {"width_mult": 0.125, "feat_dim": 4}},
    },
    # pretraining and training in worker processes
    settings={"pretrain_pairs": 40, "jobs": 2},
    train={"epochs": 1, "batch_size": 16, "device": "cpu"},
    ensemble=NO_ENSEMBLE,
    profiles={"plain": {"settings": {"pretrain": "off"}}},
)


pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.slow]


def _train_all(tmp_path, data, *args):
    zoo = write_zoo(tmp_path, ZOO)
    runs = tmp_path / "runs"
    argv = ["train-all", "--zoo", str(zoo), "--data", str(data), "--runs", str(runs)]
    argv += ["--registry", str(tmp_path / "registry"), "--no-progress", *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return result, runs


def test_towers_are_pretrained_once_and_models_start_from_them(tmp_path, monkeypatch):
    data = make_data(tmp_path / "data", digits=False)
    result, runs = _train_all(tmp_path, data, "--profile", "full")
    assert "the train split has no digit labels" in result.output
    meta = json.loads((runs / "_pretrain" / "data" / "meta.json").read_text())
    assert meta["sizes"] == {"train": 40, "val": 100} and meta["rule"] == "greater"
    towers = sorted(p.name for p in (runs / "_pretrain" / "towers").iterdir())
    assert towers == ["a", "c"]  # b has a's tower, so it starts from a's pretraining
    for model, tower in (("a", "a"), ("b", "a"), ("c", "c")):
        config = json.loads((runs / model / "config.json").read_text())
        weights = runs / "_pretrain" / "towers" / tower
        assert config["train"]["init_from"] == str(weights)
        assert config["init_sha256"] == sha256_file(weights / "model.pt")

    stamp = (runs / "_pretrain" / "data" / "train.npz").stat().st_mtime_ns

    def no_workers(*args):
        raise AssertionError("a worker process was started for finished runs")

    # finished towers and models are read back in this process, with no worker to start
    monkeypatch.setattr(runner, "train_in_workers", no_workers)
    again, _ = _train_all(tmp_path, data, "--profile", "full")
    summary = json.loads((runs / "summary.json").read_text())
    assert {m["status"] for m in summary["models"]} == {"kept"}
    assert (runs / "_pretrain" / "data" / "train.npz").stat().st_mtime_ns == stamp


def test_pretraining_can_be_turned_off(tmp_path):
    data = make_data(tmp_path / "data", digits=False)
    _, runs = _train_all(tmp_path, data, "--profile", "plain", "--only", "a")
    assert not (runs / "_pretrain").exists()
    assert json.loads((runs / "a" / "config.json").read_text())["train"]["init_from"] == ""
