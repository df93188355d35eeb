"""load_run: a run directory back as a model, and every way it can be broken."""

import io
import shutil

import pytest
import torch
from train_fixtures import fixture_plugins, make_data, tiny_config

from pairzoo.errors import RunError
from pairzoo.plugins import load_plugins
from pairzoo.train import train_run
from pairzoo.train.rundir import load_run


class Payload:
    def __reduce__(self):
        return (print, ("code ran while loading",))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("rundir")
    with fixture_plugins():
        train_run(
            tiny_config(make_data(root / "data", n_train=64, n_val=32, n_test=16)),
            root / "run",
            progress=False,
        )
    return root / "run"


@pytest.fixture
def broken(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def test_load_run_gives_eval_model_config_and_metrics(run_dir):
    with fixture_plugins():
        run = load_run(run_dir)
    assert not run.model.training and run.config["arch"] == "tinypair" and run.metrics["finished"]
    x = torch.zeros(2, 1, 28, 28)
    assert run.model(x, x).shape == (2,)


@pytest.mark.parametrize("name", ["model.pt", "config.json", "metrics.json"])
def test_missing_file(broken, name):
    (broken / name).unlink()
    with fixture_plugins(), pytest.raises(RunError, match=f"{name}: file is missing"):
        load_run(broken)


def test_truncated_model(broken):
    data = (broken / "model.pt").read_bytes()
    (broken / "model.pt").write_bytes(data[: len(data) // 2])
    with fixture_plugins(), pytest.raises(RunError, match="model.pt: corrupted or truncated"):
        load_run(broken)


def test_pickle_with_code_is_refused(broken, capsys):
    buffer = io.BytesIO()
    torch.save(
        {"format": 1, "state_dict": {}, "config": {"arch": "tinypair"}, "x": Payload()}, buffer
    )
    (broken / "model.pt").write_bytes(buffer.getvalue())
    with fixture_plugins(), pytest.raises(RunError, match="refused to load"):
        load_run(broken)
    assert "code ran" not in capsys.readouterr().out


def test_unfinished_run(broken):
    (broken / "metrics.json").write_text('{"finished": false}')
    with fixture_plugins(), pytest.raises(RunError, match="not finished.*--resume"):
        load_run(broken)


def test_architecture_whose_plugin_is_gone(run_dir):
    load_plugins(None)
    with pytest.raises(
        RunError, match="provided by plugin 'file:tinypair' 0.0.1, which is not installed"
    ):
        load_run(run_dir)


def test_not_a_run_directory(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        load_run(tmp_path / "nope")
