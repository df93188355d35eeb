"""`pairzoo train-all` end to end on tiny generated data: the smoke profile, reruns, failures, resume."""

import json

import pytest
from click.testing import CliRunner
from test_zoo_spec import ORIGINAL
from train_fixtures import make_data, template_images
from zoo_fixtures import NO_ENSEMBLE, SMALL_STACK, tiny_zoo, write_zoo

from pairzoo.cli import main
from pairzoo.registry import Registry
from pairzoo.zoo.spec import load_zoo

# A user zoo: two small models that train, one whose architecture does not exist.
USER_ZOO = tiny_zoo(
    {
        "good_a": {"seed": 1},
        "broken": {"arch": "no_such_arch", "arch_params": {}},
        "good_b": {"seed": 2},
    },
    train={"epochs": 1, "batch_size": 16, "subset": 64},
    ensemble={**SMALL_STACK, "estimate_pairs": 0},
    profiles={
        "two": {"defaults": {"train": {"epochs": 2}}},
        "par": {"settings": {"jobs": 2}},
        "calibrated": {"ensemble": {"estimate_pairs": 40}},
    },
)

# Two copies of a model that learns the easy data within 3 epochs; one with its learning rate at
# (practically) zero, so it stays below the zoo's floor.
FROZEN_ZOO = tiny_zoo(
    {"learns": {}, "frozen": {"train": {"lr": 1e-9}}},
    settings={"min_val_accuracy": 0.8},
    defaults={"arch_params": {"width_mult": 0.125, "feat_dim": 16}, "seed": 0},
    train={"epochs": 3, "batch_size": 16, "lr": 0.01, "augment": False, "patience": 0},
    ensemble=NO_ENSEMBLE,
)


pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo") / "data"
    args = ["data", "make", "--out", str(out), "--n-train", "128", "--n-val", "64"]
    result = CliRunner().invoke(main, [*args, "--n-public", "32", "--n-private", "16"])
    assert result.exit_code == 0, result.output
    return out


def train_all(tmp_path, data, *args):
    runs, registry = tmp_path / "runs", tmp_path / "registry"
    argv = ["train-all", "--data", str(data), "--runs", str(runs), "--registry", str(registry)]
    result = CliRunner().invoke(main, [*argv, "--no-progress", *args])
    summary = (
        json.loads((runs / "summary.json").read_text()) if result.exit_code in (0, 1) else None
    )
    return result, summary, runs, Registry(registry)


FP32_BF16 = ("fp32", "bf16")


def statuses(summary):
    return {m["name"]: m["status"] for m in summary["models"]}


def test_smoke_profile_end_to_end_then_rerun_skips_everything(tmp_path, tiny_data):
    result, summary, runs, registry = train_all(tmp_path, tiny_data, "--profile", "smoke")
    assert result.exit_code == 0, result.output
    assert summary["ok"] and summary["profile"] == "smoke"
    assert statuses(summary) == dict.fromkeys(ORIGINAL, "trained")
    for row in summary["models"]:
        assert row["export"] == "exported" and row["registry"] == f"{row['name']}@1"
        metrics = json.loads((runs / row["name"] / "metrics.json").read_text())
        assert row["val"] == metrics["val"] and row["test_public"] == metrics["test_public"]
        assert row["params"] > 0 and row["train_time_s"] > 0
        assert row["train_dtype"] == metrics["train_dtype"] and row["train_dtype"] in FP32_BF16
        assert (runs / row["name"] / "curves.png").is_file()
    ens = summary["ensemble"]
    assert ens["status"] == "evaluated" and ens["entry"] == "zoo-ensemble@1"
    assert {r["method"] for r in ens["rows"]} >= {"stacking (LightGBM)", "mean probability"}
    assert (runs / "ensemble" / "report.md").is_file() and (runs / "zoo_curves.png").is_file()
    assert (runs / "summary.md").read_text().startswith("# Zoo summary")
    assert not (runs / "_pretrain").exists()  # the data has digit labels: nothing to pretrain
    assert len(registry.list(kind="model")) == 11 and len(registry.list(kind="ensemble")) == 1
    for name in ("stacking (LightGBM)", "best single", "total wall time", "resnet_optimized_1.12"):
        assert name in result.output
    # The times name the CPU they were measured on, and the precision training ran in there.
    assert f"CPU: {summary['cpu']}; training precision (models): " in result.output
    assert summary["cpu"] in (runs / "summary.md").read_text()

    again, summary2, _, registry = train_all(tmp_path, tiny_data, "--profile", "smoke")
    assert again.exit_code == 0, again.output
    assert statuses(summary2) == dict.fromkeys(ORIGINAL, "kept")
    assert {m["export"] for m in summary2["models"]} == {"held"}
    assert summary2["ensemble"]["status"] == "kept"
    assert len(registry.list(kind="model")) == 11 and len(registry.list(kind="ensemble")) == 1
    assert [m["val"] for m in summary2["models"]] == [m["val"] for m in summary["models"]]


def test_a_failing_model_is_reported_and_the_others_go_on(tmp_path, tiny_data):
    zoo = write_zoo(tmp_path, USER_ZOO)
    result, summary, runs, registry = train_all(tmp_path, tiny_data, "--zoo", str(zoo))
    assert result.exit_code == 1, result.output
    assert statuses(summary) == {"good_a": "trained", "broken": "failed", "good_b": "trained"}
    broken = summary["models"][1]
    assert "unknown architecture 'no_such_arch'" in broken["error"]
    assert "broken" in result.output and "FAILED: broken" in result.output
    assert summary["ensemble"]["status"] == "evaluated" and not summary["ok"]
    members = json.loads((runs / "ensemble" / "report.json").read_text())["members"]
    assert [m["name"] for m in members] == ["good_a", "good_b"]
    assert sorted(c["name"] for c in registry.list(kind="model")) == ["good_a", "good_b"]


def test_a_model_that_does_not_learn_is_reported_as_failed_to_learn(tmp_path):
    data = make_data(tmp_path / "data", n_train=256, n_val=200, n_test=32, images=template_images)
    zoo = write_zoo(tmp_path, FROZEN_ZOO)
    result, summary, runs, registry = train_all(tmp_path, data, "--zoo", str(zoo))
    assert result.exit_code == 1, result.output
    assert statuses(summary) == {"learns": "trained", "frozen": "failed to learn"}
    learns, frozen = summary["models"]
    assert learns["val"]["accuracy"] > 0.8 >= frozen["val"]["accuracy"]
    assert frozen["error"] == (
        f"val accuracy {100 * frozen['val']['accuracy']:.2f}% is at or below 80%"
    )
    assert "frozen: FAILED TO LEARN: val accuracy" in result.output and not summary["ok"]
    assert [c["name"] for c in registry.list(kind="model")] == ["learns"]  # only it is exported


def test_worker_processes_train_report_failures_and_progress(tmp_path, tiny_data):
    # builds fine in the parent's checks, fails inside its worker
    bad_layers = {"arch": "resnet", "arch_params": {"layers": []}}
    zoo = write_zoo(
        tmp_path, {**USER_ZOO, "models": {**USER_ZOO["models"], "bad_layers": bad_layers}}
    )
    result, summary, runs, registry = train_all(
        tmp_path, tiny_data, "--zoo", str(zoo), "--profile", "par"
    )
    assert result.exit_code == 1, result.output
    assert statuses(summary) == {
        "good_a": "trained",
        "broken": "failed",
        "good_b": "trained",
        "bad_layers": "failed",
    }
    assert "layers must be a list of 1 to 5" in summary["models"][3]["error"]
    assert summary["ensemble"]["status"] == "evaluated"
    assert summary["models"][0]["train_time_s"] > 0 and (runs / "good_b" / "curves.png").is_file()


def test_only_force_and_changed_settings(tmp_path, tiny_data):
    zoo = write_zoo(tmp_path, USER_ZOO)
    args = ("--zoo", str(zoo), "--only", "good_a,good_b")
    result, summary, _, _ = train_all(tmp_path, tiny_data, *args)
    assert result.exit_code == 0, result.output
    assert statuses(summary) == {"good_a": "trained", "good_b": "trained"}
    result, summary, _, registry = train_all(tmp_path, tiny_data, *args, "--force")
    assert statuses(summary) == {"good_a": "trained", "good_b": "trained"}
    # same seed, same data, same weights: the registry already holds them
    assert {m["export"] for m in summary["models"]} == {"held"}
    result, summary, _, registry = train_all(tmp_path, tiny_data, *args, "--profile", "two")
    assert statuses(summary) == {"good_a": "trained", "good_b": "trained"}
    assert [m["epochs_run"] for m in summary["models"]] == [2, 2]
    assert sorted(c["version"] for c in registry.list(kind="model")) == [1, 1, 2, 2]
    result = CliRunner().invoke(main, ["train-all", "--zoo", str(zoo), "--only", "nope"])
    assert result.exit_code == 1 and "no model named 'nope'" in result.output


def test_the_ensemble_is_registered_again_when_its_calibration_is_not_the_one_asked_for(
    tmp_path, tiny_data
):
    zoo = write_zoo(tmp_path, USER_ZOO)
    args = ("--zoo", str(zoo), "--only", "good_a,good_b")
    _, summary, _, registry = train_all(tmp_path, tiny_data, *args)
    assert summary["ensemble"]["entry"] == "zoo-ensemble@1"
    assert registry.resolve("zoo-ensemble@1").get("estimate") is None  # estimate_pairs = 0
    _, summary, _, _ = train_all(tmp_path, tiny_data, *args, "--profile", "calibrated")
    assert statuses(summary) == {"good_a": "kept", "good_b": "kept"}
    assert summary["ensemble"]["status"] == "evaluated"
    card = Registry(tmp_path / "registry").resolve(summary["ensemble"]["entry"])
    assert card.ref == "zoo-ensemble@2" and card.get("estimate")["generator"]["pairs"] == 40
    _, summary, _, _ = train_all(tmp_path, tiny_data, *args, "--profile", "calibrated")
    assert summary["ensemble"]["status"] == "kept"


class Interrupt(Exception):
    pass


def test_an_interrupted_run_is_resumed(tmp_path, tiny_data):
    from pairzoo.train import train_run

    zoo = write_zoo(tmp_path, USER_ZOO)
    spec = load_zoo(zoo, "two").select(["good_a"])
    config = {**spec.models[0].config, "data": str(tiny_data)}

    def stop(row):
        raise Interrupt

    with pytest.raises(Interrupt):
        train_run(config, tmp_path / "runs" / "good_a", progress=False, on_epoch=stop)
    args = ("--zoo", str(zoo), "--profile", "two", "--only", "good_a")
    result, summary, runs, _ = train_all(tmp_path, tiny_data, *args)
    assert result.exit_code == 0, result.output
    assert statuses(summary) == {"good_a": "resumed"}
    assert [r["epoch"] for r in json.loads((runs / "good_a" / "history.json").read_text())] == [
        1,
        2,
    ]
    # one model: nothing to stack
    assert summary["ensemble"]["status"] == "skipped"


def test_missing_data_directory_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["train-all", "--data", str(tmp_path / "nodata")])
    assert result.exit_code == 1
    assert "has no train.npz; make it with `pairzoo data make" in result.output
