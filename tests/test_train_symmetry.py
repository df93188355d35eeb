"""An antisymmetric model cannot learn a rule whose label survives a swap: refuse it up front.
A trained antisymmetric model negates its logit when the images are swapped; a symmetric one
learns the `same` rule."""

import pytest
import torch

from pairzoo.data.format import load_data_dir
from pairzoo.data.tensors import split_pairs_np
from pairzoo.errors import ConfigError
from pairzoo.train import train_run
from pairzoo.train.rundir import load_run
from tests.train_fixtures import make_data, template_images


def _config(data, antisymmetric, **train):
    return {
        "arch": "baseline",
        "arch_params": {"width_mult": 0.25, "antisymmetric": antisymmetric},
        "data": str(data),
        "train": {"epochs": 1, "batch_size": 32, "threads": 1, **train},
    }


def test_antisymmetric_model_is_refused_for_the_same_rule(tmp_path):
    data = make_data(tmp_path / "data", n_train=64, n_val=32, n_test=16, rule="same")
    with pytest.raises(ConfigError, match=r"antisymmetric.*label rule 'same'"):
        train_run(_config(data, True), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "model.pt").exists()


def test_a_trained_antisymmetric_model_negates_its_logit_on_a_swap(tmp_path):
    data = make_data(tmp_path / "data", n_train=64, n_val=32, n_test=16)
    train_run(_config(data, True), tmp_path / "run", progress=False)
    model = load_run(tmp_path / "run").model.eval()
    xa, xb = (torch.from_numpy(a) for a in split_pairs_np(load_data_dir(data, "val").x))
    with torch.no_grad():
        ab, ba = model(xa, xb), model(xb, xa)
    assert ab.abs().min() > 0  # a logit of 0 would be its own negation
    torch.testing.assert_close(ba, -ab, rtol=0, atol=1e-5)


def test_a_symmetric_model_learns_the_same_rule(tmp_path):
    # The easy patterns of test_learning.py under the `same` rule: 50% is chance, 100% reached.
    data = make_data(
        tmp_path / "data", n_train=256, n_val=200, n_test=16, rule="same", images=template_images
    )
    cfg = _config(data, False, epochs=3, batch_size=16, lr=1e-2, augment=False, patience=0)
    cfg["arch_params"]["width_mult"], cfg["seed"] = 0.125, 0
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    assert metrics["val"]["accuracy"] >= 0.9
