"""An antisymmetric model cannot learn a rule whose label survives a swap: refuse it up front."""

import pytest

from pairzoo.errors import ConfigError
from pairzoo.train import train_run
from tests.train_fixtures import make_data


def _config(data, antisymmetric):
    return {
        "arch": "baseline",
        "arch_params": {"width_mult": 0.25, "antisymmetric": antisymmetric},
        "data": str(data),
        "train": {"epochs": 1, "batch_size": 32, "threads": 1},
    }


def test_antisymmetric_model_is_refused_for_the_same_rule(tmp_path):
    data = make_data(tmp_path / "data", n_train=64, n_val=32, n_test=16, rule="same")
    with pytest.raises(ConfigError, match=r"antisymmetric.*label rule 'same'"):
        train_run(_config(data, True), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "model.pt").exists()


def test_symmetric_model_trains_on_the_same_rule(tmp_path):
    data = make_data(tmp_path / "data", n_train=64, n_val=32, n_test=16, rule="same")
    metrics = train_run(_config(data, False), tmp_path / "run", progress=False)
    assert metrics["finished"] is True
