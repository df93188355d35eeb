"""Chained models (`start_from`): a model starts from another one's trained weights, trains after
it, and trains again when those weights change; bad chains are refused naming the key."""

import json

import pytest
from click.testing import CliRunner
from train_fixtures import make_data
from zoo_fixtures import NO_ENSEMBLE, tiny_zoo, write_zoo

from pairzoo.cli import main
from pairzoo.data.meta import sha256_file
from pairzoo.errors import ConfigError
from pairzoo.zoo.chains import Chains
from pairzoo.zoo.spec import load_zoo
from pairzoo.zoo.training import Job, Trained

TRAIN = {"epochs": 1, "batch_size": 16, "device": "cpu"}


def _zoo(models, **settings):
    return tiny_zoo(models, settings=settings, train=TRAIN, ensemble=NO_ENSEMBLE)


def _train_all(tmp_path, zoo, *args):
    runs = tmp_path / "runs"
    argv = ["train-all", "--zoo", str(write_zoo(tmp_path, zoo)), "--data", str(tmp_path / "data")]
    argv += ["--runs", str(runs), "--registry", str(tmp_path / "reg"), "--no-progress", *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return result, runs


def _config(runs, name):
    return json.loads((runs / name / "config.json").read_text())


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_chained_model_starts_from_its_parents_weights(tmp_path, jobs):
    make_data(tmp_path / "data")
    # c is listed first but waits for b, which waits for a
    zoo = _zoo(
        {
            "c": {"start_from": "b", "seed": 3},
            "a": {"seed": 1},
            "b": {"start_from": "a", "seed": 2},
        },
        jobs=jobs,
    )
    result, runs = _train_all(tmp_path, zoo)
    assert _config(runs, "a")["train"]["init_from"] == ""
    for child, parent in (("b", "a"), ("c", "b")):
        config = _config(runs, child)
        assert config["train"]["init_from"] == str(runs / parent)
        assert config["init_sha256"] == sha256_file(runs / parent / "model.pt")
    summary = json.loads((runs / "summary.json").read_text())
    assert [m["name"] for m in summary["models"]] == ["c", "a", "b"]  # the file's order
    assert {m["status"] for m in summary["models"]} == {"trained"}

    # b trained again with other settings: c, which starts from b's weights, trains again too
    zoo["models"]["b"]["seed"] = 5
    again, _ = _train_all(tmp_path, zoo)
    statuses = {
        m["name"]: m["status"] for m in json.loads((runs / "summary.json").read_text())["models"]
    }
    assert statuses == {"a": "kept", "b": "trained", "c": "trained"}
    assert _config(runs, "c")["init_sha256"] == sha256_file(runs / "b" / "model.pt")


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_a_model_whose_parent_is_left_out_starts_from_its_finished_run_or_from_scratch(tmp_path):
    make_data(tmp_path / "data")
    zoo = _zoo({"a": {"seed": 1}, "b": {"start_from": "a", "seed": 2}})
    result, runs = _train_all(tmp_path, zoo, "--only", "b")
    assert "b: a is not trained in" in result.output and "starts from scratch" in result.output
    assert _config(runs, "b")["train"]["init_from"] == ""
    _train_all(tmp_path, zoo, "--only", "a")
    _train_all(tmp_path, zoo, "--only", "b")
    assert _config(runs, "b")["train"]["init_from"] == str(runs / "a")


def _job(tmp_path, name):
    return Job(name, {"train": {"epochs": 1}}, tmp_path / name)


def test_the_longest_chain_goes_first_and_a_failed_parent_releases_its_children_from_scratch(
    tmp_path,
):
    said = []
    jobs = [_job(tmp_path, n) for n in ("solo", "a", "b", "c")]
    chains = Chains(jobs, {"b": "a", "c": "b", "solo": ""}, said.append)
    assert [j.name for j in chains.roots()] == ["a", "solo"]
    (b,) = chains.released(Trained("a", {}, None, 1.0))
    assert b.config["train"]["init_from"] == str(tmp_path / "a")
    (c,) = chains.released(Trained("b", None, "it broke", 1.0))
    assert "init_from" not in c.config["train"]
    assert said == ["c: b did not finish; it starts from scratch"]


@pytest.mark.parametrize(
    "models, message",
    [
        ({"a": {"start_from": "nobody"}}, r"key 'models\.a\.start_from' is 'nobody', expected"),
        ({"a": {"start_from": "a"}}, r"key 'models\.a\.start_from' is 'a', expected another"),
        (
            {"a": {}, "b": {"start_from": "a", "arch_params": {"feat_dim": 4}}},
            r"key 'models\.b\.start_from': a is baseline \(.*feat_dim=8.*\), b is baseline "
            r"\(.*feat_dim=4.*\); a model starts only from weights of its own architecture",
        ),
        (
            {"a": {"start_from": "b"}, "b": {"start_from": "a"}},
            r"key 'models\.a\.start_from' makes a loop: a -> b -> a",
        ),
        ({"a": {"start_from": 3}}, r"key 'models\.a\.start_from'"),
    ],
)
def test_a_bad_chain_is_refused_naming_the_key(tmp_path, models, message):
    with pytest.raises(ConfigError, match=message):
        load_zoo(write_zoo(tmp_path, _zoo(models)), "full")


def test_a_profile_can_chain_models(tmp_path):
    zoo = _zoo({"a": {}, "b": {}})
    zoo["profiles"] = {"cpu": {"models": {"b": {"start_from": "a"}}}}
    path = write_zoo(tmp_path, zoo)
    assert [m.start_from for m in load_zoo(path, "cpu").models] == ["", "a"]
    assert [m.start_from for m in load_zoo(path, "full").models] == ["", ""]


def test_a_model_with_other_parameters_may_start_from_the_weights_that_fit(tmp_path):
    models = {
        "a": {},
        "b": {"start_from": "a", "arch_params": {"feat_dim": 4}, "train": {"init_strict": False}},
    }
    assert [m.start_from for m in load_zoo(write_zoo(tmp_path, _zoo(models)), "full").models] == [
        "",
        "a",
    ]
    models["b"]["arch"] = "resnet"
    with pytest.raises(ConfigError, match=r"a is baseline, b is resnet; .* own architecture$"):
        load_zoo(write_zoo(tmp_path, _zoo(models)), "full")
