"""What the optimiser step sees: gradient accumulation gives the larger batch's gradient,
clipping bounds the gradient's norm, label smoothing moves the loss by its exact amount.

The fixture tower `tinyplain` has no BatchNorm and no dropout, and augmentation and swaps are
off, so a micro-batch's gradient does not depend on which other pairs share its batch. The
gradients are read by a global optimiser pre-step hook, after the trainer's clipping.
"""

import contextlib
import json

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook
from train_fixtures import fixture_plugins, make_data

from pairzoo.data.format import load_data_dir
from pairzoo.data.tensors import split_pairs_np
from pairzoo.train import train_run
from pairzoo.train.rundir import load_run


@pytest.fixture(autouse=True)
def _plugins():
    with fixture_plugins():
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("steps") / "data")  # 256 train pairs


def plain_config(data, loss="tinybce", **train):
    return {
        "arch": "tinyplain",
        "loss": loss,
        "data": str(data),
        "seed": 7,
        "train": {
            "epochs": 1,
            "batch_size": 32,
            "lr": 0.03,
            "grad_clip": 0.0,
            "augment": False,
            "swap": False,
            "patience": 0,
            "threads": 1,
            "device": "cpu",
            **train,
        },
    }


@contextlib.contextmanager
def optimizer_steps():
    """One flat gradient vector per optimiser step, as the optimiser is about to use it."""
    steps = []

    def record(optimizer, args, kwargs):
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        steps.append(torch.cat([g.detach().reshape(-1) for g in grads]).clone())

    handle = register_optimizer_step_pre_hook(record)
    try:
        yield steps
    finally:
        handle.remove()


def train_steps(cfg, out):
    with optimizer_steps() as steps:
        train_run(cfg, out, progress=False)
    return steps


def relative(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.usefixtures("fp32_training")
def test_accumulation_gives_the_larger_batchs_gradient(data, tmp_path):
    big = train_steps(plain_config(data, batch_size=32), tmp_path / "big")
    accumulated = train_steps(plain_config(data, batch_size=16, accum_steps=2), tmp_path / "acc")
    small = train_steps(plain_config(data, batch_size=16), tmp_path / "small")
    assert len(big) == len(accumulated) == 8 and len(small) == 16
    # Float32 sums in another order: ~1e-7 apart per step. A micro-batch's gradient taken
    # alone, or summed instead of averaged, is 10% or more away.
    for a, b in zip(accumulated, big, strict=True):
        assert relative(a, b) <= 1e-4
    assert relative(small[0], big[0]) > 0.1
    wa = load_run(tmp_path / "acc").model.state_dict()
    wb = load_run(tmp_path / "big").model.state_dict()
    for k in wb:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-4, atol=1e-6)


def test_clipping_bounds_the_gradient_norm_the_optimizer_sees(data, tmp_path):
    clip = 1e-3
    free = train_steps(plain_config(data), tmp_path / "free")
    clipped = train_steps(plain_config(data, grad_clip=clip), tmp_path / "clipped")
    assert min(float(g.norm()) for g in free) > 10 * clip  # so clipping has work to do
    assert all(float(g.norm()) == pytest.approx(clip, rel=1e-4) for g in clipped)
    # train.log's and history's grad_norm is the norm before clipping
    history = json.loads((tmp_path / "clipped" / "history.json").read_text())
    assert history[0]["grad_norm"] > 10 * clip


@pytest.mark.usefixtures("fp32_training")
@pytest.mark.parametrize("loss", ["tinybce", "bce"])  # smoothed by the trainer / by the loss
def test_label_smoothing_moves_the_loss_by_its_exact_amount(data, tmp_path, loss):
    """BCE(s, t) = softplus(s) - t s, so smoothing the targets to y (1 - ls) + ls / 2 moves the
    mean loss by ls * mean((y - 1/2) s). With the learning rate at (practically) zero, the
    logits s during the epoch are those of the run's saved model."""
    ls = 0.2
    losses = {}
    for smoothing in (0.0, ls):
        cfg = plain_config(data, loss, lr=1e-9, label_smoothing=smoothing, aux_weight=0.0)
        out = tmp_path / f"ls{smoothing}"
        train_run(cfg, out, progress=False)
        losses[smoothing] = json.loads((out / "history.json").read_text())[0]["train_loss"]
    train = load_data_dir(data, "train")
    xa, xb = split_pairs_np(train.x)
    with torch.no_grad():
        s = load_run(tmp_path / "ls0.0").model.eval()(torch.from_numpy(xa), torch.from_numpy(xb))
    expected = ls * float(np.mean((train.y - 0.5) * s.double().numpy()))
    assert abs(expected) > 1e-3
    assert losses[ls] - losses[0.0] == pytest.approx(expected, rel=1e-3)
