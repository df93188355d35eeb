"""`pairzoo train` and `pairzoo eval` through click, and errors as one line."""

import json

import pytest
from click.testing import CliRunner
from train_fixtures import PLUGINS_DIR, make_data

from pairzoo.cli import main
from pairzoo.plugins import load_plugins

TINY = ["--arch", "tinypair", "--loss", "tinybce", "--plugins-dir", str(PLUGINS_DIR)]
FAST = ["--epochs", "1", "--batch-size", "32", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("cli") / "data", n_train=128, n_val=64, n_test=32)


@pytest.fixture(autouse=True)
def _reset_plugins():
    yield
    load_plugins(None)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_train_then_eval(data, tmp_path):
    out = tmp_path / "runs" / "tiny"
    result = invoke(
        "train", *TINY, *FAST, "--data", data, "--out", out, "--arch-param", "width=3", "--seed", 3
    )
    assert result.exit_code == 0, result.output
    assert "best epoch 1, val accuracy" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["arch_params"]["width"] == 3 and config["seed"] == 3 and config["name"] == "tiny"
    result = invoke("eval", "--model", out, "--data", data, "--plugins-dir", PLUGINS_DIR)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "accuracy" in lines[1] and "roc_auc" in lines[1]
    assert lines[2].startswith("val") and lines[3].startswith("test_public")
    result = invoke("eval", "--model", out, "--data", data, "--plugins-dir", PLUGINS_DIR, "--json")
    metrics = json.loads(result.output)
    assert metrics["val"]["n"] == 64 and metrics["test_public"]["n"] == 32
    assert metrics["val"]["accuracy"] == pytest.approx(
        json.loads((out / "metrics.json").read_text())["val"]["accuracy"]
    )


def test_toml_config_with_command_line_override(data, tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text(
        'arch = "tinypair"\nloss = "tinybce"\nseed = 5\n[arch_params]\nwidth = 2\n'
        "[train]\nepochs = 3\nbatch_size = 32\nthreads = 1\n"
    )
    out = tmp_path / "run"
    args = ["--config", toml, "--epochs", 1, "--data", data, "--out", out]
    result = invoke("train", *args, "--plugins-dir", PLUGINS_DIR, "--no-progress")
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert (
        config["train"]["epochs"] == 1
        and config["seed"] == 5
        and config["arch_params"]["width"] == 2
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "nope"], "unknown architecture 'nope' (available: "),
        (["--loss", "nope"], "unknown loss 'nope' (available: "),
        (["--arch-param", "width=wide"], "architecture 'tinypair' parameter 'width' must be int"),
        (["--arch-param", "depth=3"], "architecture 'tinypair' has no parameter 'depth'"),
        (["--arch-param", "width=0"], "architecture 'tinypair': width must be at least 1"),
        (["--layers", "3,x"], "--layers '3,x': expected comma-separated integers"),
        (["--epochs", "0"], "key 'train.epochs' must be at least 1"),
        (["--rule", "odd"], "unknown label rule 'odd'"),
    ],
)
def test_errors_are_one_line(data, tmp_path, args, message):
    result = invoke("train", *TINY, *FAST, "--data", data, "--out", tmp_path / "run", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_head_lists_heads(data, tmp_path):
    result = invoke(
        "train",
        "--arch",
        "resnet",
        "--heads",
        "diff,concatt",
        "--data",
        data,
        "--out",
        tmp_path / "r",
    )
    assert result.exit_code == 1
    assert "unknown fusion head 'concatt' (available: " in result.output


def test_eval_of_missing_run(data, tmp_path):
    result = invoke("eval", "--model", tmp_path / "none", "--data", data)
    assert result.exit_code == 1 and "does not exist" in result.output
