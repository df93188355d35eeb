"""A zoo's training time budget: pairs per epoch scaled to a measured speed, kept on a rerun."""

import json

import pytest
from click.testing import CliRunner
from zoo_fixtures import NO_ENSEMBLE, tiny_zoo, write_zoo

from pairzoo.cli import main
from pairzoo.zoo.budget import (
    BUDGET_FILE,
    MIN_PAIRS,
    Cost,
    _cost,
    _trains_fresh,
    _val_has_digits,
    plan_pairs,
    sized_jobs,
)
from pairzoo.zoo.spec import load_zoo
from pairzoo.zoo.training import Job

pytestmark = pytest.mark.usefixtures("one_thread")

# Two models of 3 epochs of 10,000 pairs at 1 ms a pair, 10 s of the rest each: 80 s of work.
COSTS = [Cost("a", 3, 10_000, 1e-3, 10.0), Cost("b", 3, 10_000, 1e-3, 10.0)]


def test_a_budget_that_holds_the_zoo_changes_nothing():
    scale, pairs, predicted, floor_hit = plan_pairs(COSTS, minutes=1.0, jobs=2)
    assert scale == 1.0 and pairs == {"a": 10_000, "b": 10_000} and not floor_hit
    assert predicted == pytest.approx(40.0)  # 80 s of work on two workers


def test_a_smaller_budget_scales_every_model_down_to_fit():
    # 60 s on one worker: 20 s of the rest leaves 40 s for the 60 s of pairs at full size
    scale, pairs, predicted, floor_hit = plan_pairs(COSTS, minutes=1.0, jobs=1)
    assert scale == pytest.approx(2 / 3) and not floor_hit
    assert pairs == {"a": 6000, "b": 6000}  # 6,666 rounded down to whole thousands
    assert predicted == pytest.approx(2 * 3 * 6000 * 1e-3 + 20.0) and predicted <= 60.0


def test_scaled_pairs_are_rounded_down_and_predicted_within_the_budget():
    costs = [Cost("a", 2, 40_000, 2e-3, 30.0), Cost("b", 2, 40_000, 3e-3, 30.0)]
    scale, pairs, predicted, floor_hit = plan_pairs(costs, minutes=2.0, jobs=2)
    # 240 worker-seconds, 60 of the rest: 180 for the 400 s of pairs at full size
    assert scale == pytest.approx(0.45) and not floor_hit
    assert pairs == {"a": 18_000, "b": 18_000}
    assert predicted <= 2.0 * 60


def test_a_budget_too_small_trains_the_floor_and_says_so():
    scale, pairs, _, floor_hit = plan_pairs(COSTS, minutes=0.1, jobs=1)
    assert scale == 0.0 and floor_hit and pairs == {"a": MIN_PAIRS, "b": MIN_PAIRS}
    small = [Cost("a", 1, 500, 1e-3, 10.0)]  # fewer pairs than the floor: all of them
    assert plan_pairs(small, minutes=0.01, jobs=1)[1] == {"a": 500}


def test_no_builtin_profile_has_a_budget_unless_asked():
    for profile in ("cpu", "smoke", "full"):
        assert load_zoo(None, profile).settings["train_minutes"] == 0


ZOO = tiny_zoo(
    {"first": {"seed": 1}, "second": {"seed": 2}},
    train={
        "epochs": 1,
        "batch_size": 32,
        "subset": 3000,
        "augment": False,
        "patience": 0,
        "pairs": "auto",
    },  # fmt: skip
    ensemble=NO_ENSEMBLE,  # and no budget: the command line gives one
)


def test_train_all_sizes_pairs_to_its_budget_and_a_rerun_keeps_the_plan(tmp_path):
    data, runs = tmp_path / "data", tmp_path / "runs"
    made = CliRunner().invoke(main, ["data", "make", "--out", str(data), "--n-train", "3000",
                                     "--n-val", "200", "--n-public", "50", "--n-private", "10"])  # fmt: skip
    assert made.exit_code == 0, made.output
    zoo = write_zoo(tmp_path, ZOO)
    # 0.6 s for two models: far too little, so each trains the floor
    argv = ["train-all", "--zoo", str(zoo), "--data", str(data), "--runs", str(runs),
            "--registry", str(tmp_path / "reg"), "--no-progress",
            "--train-minutes", "0.01"]  # fmt: skip

    first = CliRunner().invoke(main, argv)
    assert first.exit_code == 0, first.output
    assert "budget: measuring how fast each model trains here" in first.output
    assert "the budget is too small" in first.output
    plan = json.loads((runs / BUDGET_FILE).read_text())
    assert plan["pairs"] == {"first": MIN_PAIRS, "second": MIN_PAIRS} and plan["floor_hit"]
    assert set(plan["speeds"]) == {"first", "second"}
    assert all(s["train_pairs_s"] > 0 and s["eval_pairs_s"] > 0 for s in plan["speeds"].values())
    assert plan["fresh_s_per_pair"] > 0  # the data was made here, so the models train fresh pairs
    for name in ("first", "second"):
        config = json.loads((runs / name / "config.json").read_text())
        assert config["train"]["subset"] == MIN_PAIRS
    summary = json.loads((runs / "summary.json").read_text())
    assert summary["budget"]["pairs"] == plan["pairs"]
    assert "budget: 0.01 min of training" in (runs / "summary.md").read_text()

    again = CliRunner().invoke(main, argv)
    assert again.exit_code == 0, again.output
    assert "measuring" not in again.output  # the saved plan, not a new measurement
    assert "first: already trained with these settings; kept" in again.output
    assert json.loads((runs / BUDGET_FILE).read_text()) == plan


def test_without_a_budget_the_jobs_are_the_zoo_files_and_nothing_is_measured(tmp_path):
    jobs = [Job("first", {"train": {"subset": 3000}, "data": str(tmp_path)}, tmp_path / "first")]
    said = []
    sized, plan = sized_jobs(jobs, {"train_minutes": 0.0, "jobs": 2}, tmp_path, said.append)
    assert sized == jobs and plan is None and said == []
    assert not (tmp_path / BUDGET_FILE).exists()


def test_a_models_cost_counts_its_fresh_pairs_and_its_digit_report():
    job = Job("m", {"train": {"epochs": 3, "subset": 4000}}, None)
    speed = {"train_pairs_s": 500.0, "eval_pairs_s": 1000.0}
    sizes = {"train": 9000, "val": 1000, "test_public": 500}
    fixed = _cost(job, speed, sizes)
    fresh = _cost(job, speed, sizes, fresh_s_per_pair=1e-3, val_digits=True)
    assert fixed.s_per_pair == pytest.approx(2e-3) and fresh.s_per_pair == pytest.approx(3e-3)
    # three val passes and test_public, and a fourth val pass for the digit report
    assert fixed.fixed_s == pytest.approx(3.5 + 8.0) and fresh.fixed_s == pytest.approx(4.5 + 8.0)


def test_fresh_pairs_are_planned_as_the_trainer_decides(tmp_path):
    data = tmp_path / "data"
    made = CliRunner().invoke(main, ["data", "make", "--out", str(data), "--n-train", "200",
                                     "--n-val", "50", "--n-public", "20", "--n-private", "10"])  # fmt: skip
    assert made.exit_code == 0, made.output
    config = {**load_zoo(write_zoo(tmp_path, ZOO)).models[0].config, "data": str(data)}
    assert _trains_fresh(config) and _val_has_digits(str(data))
    config["train"]["pairs"] = "fixed"
    assert not _trains_fresh(config)
    (data / "meta.json").unlink()  # no generator: auto trains train.npz's pairs
    config["train"]["pairs"] = "auto"
    assert not _trains_fresh(config)
