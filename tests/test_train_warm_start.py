"""train.init_from: a run that starts from another run's weights (fine-tuning, pretraining)."""

import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from train_fixtures import PLUGINS_DIR, fixture_plugins, make_data, tiny_config

from pairzoo.cli import main
from pairzoo.errors import ConfigError
from pairzoo.train import train_run
from pairzoo.train.config import config_hash


@pytest.fixture(autouse=True)
def _plugins():
    with fixture_plugins():
        yield


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The tiny data and one finished run to start from."""
    root = tmp_path_factory.mktemp("warm")
    data = make_data(root / "data")
    with fixture_plugins():
        train_run(tiny_config(data, epochs=1), root / "source", progress=False)
    return data, root / "source"


def _initial_state(cfg, out):
    from pairzoo.train.device import pick_runtime
    from pairzoo.train.resolve import resolve_config
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.train.session import build_session, load_splits

    cfg = resolve_config(cfg, out)
    run, runtime = RunConfig.from_dict(cfg), pick_runtime("cpu")
    return cfg, build_session(run, runtime, load_splits(run, runtime).train).stepper.model


def test_the_run_starts_from_the_given_weights_and_records_their_hash(source, tmp_path):
    from pairzoo.data.meta import sha256_file

    data, run = source
    cfg = tiny_config(data, init_from=str(run))
    resolved, model = _initial_state(cfg, tmp_path / "warm")
    given = torch.load(run / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], given[k]) for k in given)
    assert resolved["init_sha256"] == sha256_file(run / "model.pt")
    _, fresh = _initial_state(tiny_config(data), tmp_path / "fresh")
    assert not all(torch.equal(fresh.state_dict()[k], given[k]) for k in given)


def test_the_hash_follows_the_weights_not_their_path(source, tmp_path):
    from pairzoo.train.resolve import resolve_config

    data, run = source
    copy = shutil.copytree(run, tmp_path / "copy")
    a = resolve_config(tiny_config(data, init_from=str(run)), tmp_path / "a")
    b = resolve_config(tiny_config(data, init_from=str(copy / "model.pt")), tmp_path / "b")
    assert config_hash(a) == config_hash(b)
    again = {**tiny_config(data, init_from=str(copy)), "seed": 1}  # other weights from these
    train_run(again, tmp_path / "other", progress=False)
    other = resolve_config(tiny_config(data, init_from=str(tmp_path / "other")), tmp_path / "c")
    assert config_hash(other) != config_hash(a)
    assert config_hash(a) != config_hash(resolve_config(tiny_config(data), tmp_path / "d"))


def test_weights_of_another_shape_or_no_file_are_refused_by_name(source, tmp_path):
    data, run = source
    wider = {**tiny_config(data, init_from=str(run)), "arch_params": {"width": 6}}
    with pytest.raises(ConfigError, match=r"model\.pt: its weights .* do not fit.*other shape"):
        train_run(wider, tmp_path / "wider", progress=False)
    with pytest.raises(ConfigError, match=r"nowhere.*does not exist; expected a run directory"):
        train_run(tiny_config(data, init_from=str(tmp_path / "nowhere")), tmp_path / "x")


def test_cli_fine_tunes_and_resumes_only_from_the_same_weights(source, tmp_path):
    data, run = source
    copy = shutil.copytree(run, tmp_path / "copy")
    args = [
        "train", "--data", str(data), "--arch", "tinypair", "--loss", "tinybce",
        "--plugins-dir", str(PLUGINS_DIR), "--epochs", "1", "--batch-size", "32",
        "--threads", "1", "--no-progress", "--init-from", str(copy), "--out", str(tmp_path / "ft"),
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert config["train"]["init_from"] == str(copy) and len(config["init_sha256"]) == 64
    weights = torch.load(copy / "model.pt", weights_only=True)
    weights["state_dict"] = {k: v + 1 for k, v in weights["state_dict"].items()}
    torch.save(weights, copy / "model.pt")  # other weights at the same path
    again = CliRunner().invoke(main, [*args, "--resume"])
    assert again.exit_code == 1 and "different config" in again.output


def test_without_strict_weights_the_fitting_ones_load_and_the_log_names_the_others(
    source, tmp_path
):
    data, run = source
    given = torch.load(run / "model.pt", weights_only=True)["state_dict"]
    other = {
        **tiny_config(data, init_from=str(run), init_strict=False),
        "arch_params": {"feat_dim": 6},
    }
    _, model = _initial_state(other, tmp_path / "loose")
    own = model.state_dict()
    fitting = [k for k in given if k in own and own[k].shape == given[k].shape]
    fresh = [k for k in own if k not in fitting]
    assert fitting and fresh
    assert all(torch.equal(own[k], given[k]) for k in fitting)
    train_run(other, tmp_path / "loose", progress=False)
    log = (tmp_path / "loose" / "train.log").read_text()
    assert f"started from {len(fitting)} of {len(own)} weights" in log
    assert f"{len(fresh)} initialised: {sorted(fresh)[0]}" in log
    strict = {**other, "train": {**other["train"], "init_strict": True}}
    with pytest.raises(ConfigError, match=r"do not fit.*other shape"):
        train_run(strict, tmp_path / "strict", progress=False)


def test_without_strict_weights_a_model_that_shares_no_layer_is_refused(source):
    from pairzoo.train.warm_start import load_initial_weights

    _, run = source
    unrelated = torch.nn.Sequential(torch.nn.Bilinear(3, 3, 2))  # no name in common
    with pytest.raises(ConfigError, match=r"none of its weights fits this run's model"):
        load_initial_weights(unrelated, str(run), "", strict=False)


def test_strict_weights_hash_as_before_the_key_existed(source):
    data, _ = source
    cfg = tiny_config(data)
    assert config_hash(cfg) == config_hash({**cfg, "train": {**cfg["train"], "init_strict": True}})
    assert config_hash(cfg) != config_hash({**cfg, "train": {**cfg["train"], "init_strict": False}})
