"""train_run end to end on tiny data with the fixture architecture (and once with builtin resnet)."""

import json

import pytest
import torch
from train_fixtures import fixture_plugins, make_data, tiny_config

from pairzoo.errors import ConfigError
from pairzoo.train import train_run
from pairzoo.train.config import config_hash


@pytest.fixture(autouse=True)
def _plugins():
    with fixture_plugins():
        yield


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("data") / "data")


def _strip_times(metrics):
    return {k: v for k, v in metrics.items() if k != "train_time_s"}


def test_run_directory_holds_every_file(tiny_data, tmp_path):
    out = tmp_path / "run"
    metrics = train_run(tiny_config(tiny_data, epochs=2), out, progress=False)
    for name in ("model.pt", "last.pt", "config.json", "metrics.json", "history.json", "train.log"):
        assert (out / name).is_file(), name
    assert any((out / "tb").glob("events.out.tfevents.*"))
    saved = torch.load(out / "model.pt", weights_only=True)
    config = json.loads((out / "config.json").read_text())
    assert saved["format"] == 1 and saved["config"] == config
    assert config["rule"] == "greater" and config["name"] == "run"
    assert config["arch_params"] == {"width": 4, "feat_dim": 8, "sleep": 0.0, "aux": False}
    assert config["provenance"]["arch"] == {
        "name": "tinypair",
        "plugin": "file:tinypair",
        "version": "0.0.1",
    }
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["finished"] is True and metrics["config_hash"] == config_hash(config)
    assert set(metrics["val"]) == {"accuracy", "f1", "precision", "recall", "roc_auc"}
    assert set(metrics["test_public"]) == set(metrics["val"])
    assert metrics["params"] > 0 and metrics["macs_per_pair"] > 0
    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert {"train_loss", "val_accuracy", "lr", "grad_norm"} <= set(history[0])
    assert "epoch 2:" in (out / "train.log").read_text()
    best = torch.load(out / "last.pt", weights_only=True)["best_state"]
    assert all(torch.equal(best[k], saved["state_dict"][k]) for k in best)


def test_same_seed_gives_identical_metrics(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data, epochs=2)
    threads = torch.get_num_threads()
    a = train_run(cfg, tmp_path / "a", progress=False)
    assert torch.get_num_threads() == threads  # the run's thread count is not left behind
    b = train_run(cfg, tmp_path / "b", progress=False)
    assert _strip_times(a) == {**_strip_times(b), "name": "a"}
    ha = json.loads((tmp_path / "a" / "history.json").read_text())
    hb = json.loads((tmp_path / "b" / "history.json").read_text())
    assert [r["train_loss"] for r in ha] == [r["train_loss"] for r in hb]
    c = train_run({**cfg, "seed": 8}, tmp_path / "c", progress=False)
    assert c["config_hash"] != a["config_hash"]
    hc = json.loads((tmp_path / "c" / "history.json").read_text())
    assert [r["train_loss"] for r in hc] != [r["train_loss"] for r in ha]


@pytest.mark.parametrize("schedule", ["cosine", "plateau", "constant", "onecycle"])
def test_schedules_on_a_random_subset(tiny_data, tmp_path, schedule):
    # accumulation, clipping and smoothing are checked on the gradients and losses themselves in
    # test_train_steps.py; here: each schedule's learning rate per epoch, and the subset
    cfg = tiny_config(tiny_data, epochs=2, schedule=schedule, subset=128, subset_mode="random")
    train_run(cfg, tmp_path / "run", progress=False)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert "128 train / 128 val pairs" in (tmp_path / "run" / "train.log").read_text()
    lrs = [row["lr"] for row in history]
    if schedule in ("cosine", "onecycle"):
        assert lrs[0] > lrs[1]  # annealed towards the end of the run
    else:
        assert lrs == [1e-2, 1e-2]  # plateau: val accuracy has not stalled for long enough yet


def test_aux_digits_only_with_digits_and_forward_aux(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data, aux_weight=0.5)
    cfg["arch_params"] = {"aux": True}
    train_run(cfg, tmp_path / "aux", progress=False)
    assert "aux digits on" in (tmp_path / "aux" / "train.log").read_text()
    no_digits = make_data(tmp_path / "nd", n_train=64, n_val=32, n_test=16, digits=False)
    train_run({**cfg, "data": str(no_digits)}, tmp_path / "noaux", progress=False)
    assert "aux digits off" in (tmp_path / "noaux" / "train.log").read_text()


def test_early_stopping_stops_after_patience(tiny_data, tmp_path):
    cfg = tiny_config(
        tiny_data, epochs=6, patience=1, lr=1e-9, schedule="constant", augment=False, swap=False
    )
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    assert metrics["stopped_early"] is True
    assert metrics["epochs_run"] < 6 and metrics["best_epoch"] == metrics["epochs_run"] - 1


def test_existing_run_needs_resume_and_same_config(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data)
    first = train_run(cfg, tmp_path / "run", progress=False)
    with pytest.raises(ConfigError, match="already holds a run; pass --resume"):
        train_run(cfg, tmp_path / "run", progress=False)
    assert train_run(cfg, tmp_path / "run", resume=True, progress=False) == first
    with pytest.raises(ConfigError, match="different config"):
        train_run({**cfg, "seed": 99}, tmp_path / "run", resume=True, progress=False)


def test_builtin_resnet_with_aux_digits_trains(tiny_data, tmp_path):
    cfg = {
        "arch": "resnet",
        "arch_params": {
            "layers": [1, 1],
            "width_mult": 0.0625,
            "feat_dim": 16,
            "heads": ["diff", "concat"],
        },
        "loss": "focal",
        "data": str(tiny_data),
        "train": {"epochs": 1, "batch_size": 64, "subset": 128, "threads": 1},
    }
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert [h["name"] for h in config["provenance"]["heads"]] == ["diff", "concat"]
    assert "aux digits on" in (tmp_path / "run" / "train.log").read_text()
    assert metrics["finished"]


def test_teacher_logits_reach_the_distill_loss(tiny_data, tmp_path):
    import numpy as np

    from pairzoo.data.format import load_data_dir

    n = len(load_data_dir(tiny_data, "train").y)
    cfg = {**tiny_config(tiny_data, epochs=1), "loss": "distill"}
    with pytest.raises(ConfigError, match="learns from a teacher"):
        train_run(cfg, tmp_path / "no_teacher", progress=False)
    with pytest.raises(ConfigError, match="one per train pair"):
        train_run(cfg, tmp_path / "short", progress=False, teacher_logits=np.zeros(n - 1))
    # The teacher's logits are in the loss: another teacher, another training loss. (That the
    # student learns what its teacher says is in test_learning.py.)
    teacher = np.random.default_rng(0).normal(size=n).astype(np.float32)
    losses = []
    for name, logits in (("a", teacher), ("b", -teacher)):
        train_run(cfg, tmp_path / name, progress=False, teacher_logits=logits)
        losses.append(json.loads((tmp_path / name / "history.json").read_text())[0]["train_loss"])
    assert abs(losses[0] - losses[1]) > 1e-3
