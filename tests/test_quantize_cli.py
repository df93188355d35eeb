"""`pairzoo export RUN --quantize int8` against the real 0.5-point gate, both ways, with exit codes.

One trained model, two data directories that differ only in train.npz, the calibration pairs:
the real ones, and the same pairs at 1/16 of their brightness, whose activation ranges are far
too narrow for val. Val accuracy fp32 is 100%; int8 keeps it with the real calibration and falls
to 63.5% with the dim one (measured).
"""

import json
import shutil

import pytest
from click.testing import CliRunner
from train_fixtures import make_data, template_images

from pairzoo.cli import main
from pairzoo.data.format import load_data_dir, save_split
from pairzoo.registry import Registry
from pairzoo.train import train_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quantize_cli")
    data = make_data(tmp / "data", n_train=256, n_val=200, n_test=32, images=template_images)
    config = {
        "arch": "baseline",
        "arch_params": {"width_mult": 0.125, "feat_dim": 16},
        "data": str(data),
        "seed": 0,
        "train": {"epochs": 3, "batch_size": 16, "lr": 1e-2, "augment": False, "threads": 1},
    }
    train_run(config, tmp / "run", progress=False)
    dim = tmp / "dim"
    shutil.copytree(data, dim)
    train = load_data_dir(data, "train")
    save_split(dim / "train.npz", train.x // 16, train.ids, y=train.y, digits=train.digits)
    return tmp, data, dim


def export_int8(tmp, data, name):
    args = ["export", tmp / "run", "--name", name, "--quantize", "int8", "--data", data]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--registry", tmp / "registry"]])
    return result, Registry(tmp / "registry")


def test_int8_within_the_gate_is_registered_exit_0(trained):
    tmp, data, _ = trained
    result, reg = export_int8(tmp, data, "good")
    assert result.exit_code == 0, result.output
    assert "registered good-int8@1 (int8 QDQ, from good@1): val accuracy" in result.output
    q = reg.resolve("good-int8")["quantization"]
    assert q["val_accuracy"]["fp32"] == q["val_accuracy"]["int8"] == 1.0
    assert q["calibration"]["split"] == "train" and q["val_accuracy"]["pairs"] == 200


def test_int8_below_the_gate_is_refused_exit_1(trained):
    tmp, _, dim = trained
    result, reg = export_int8(tmp, dim, "dim")
    assert result.exit_code == 1, result.output
    assert "registered dim@1 (fp32), but dim@1: int8 variant refused, nothing registered" in (
        result.output
    )
    figures = result.output.split("val accuracy fp32 ")[1]
    fp32, int8 = (float(part.split("%")[0]) for part in figures.split(", int8 ", 1))
    assert fp32 - int8 > 10 and "allowed 0.50" in figures
    assert [c["name"] for c in reg.list(kind="model") if c["name"].startswith("dim")] == ["dim"]
    assert json.loads((tmp / "run" / "metrics.json").read_text())["finished"]


def test_a_digit_posterior_model_keeps_its_accuracy_in_int8(tmp_path):
    """The head's log-weights of -1e4 once shared a uint8 range with its log-probabilities."""
    data = make_data(tmp_path / "data", n_train=256, n_val=200, n_test=32, images=template_images)
    config = {
        "arch": "resnet",
        "arch_params": {"width_mult": 0.125, "feat_dim": 16, "heads": ["posterior"]},
        "data": str(data),
        "seed": 0,
        "train": {"epochs": 3, "batch_size": 16, "lr": 1e-2, "augment": False, "threads": 1},
    }
    train_run(config, tmp_path / "run", progress=False)
    result, reg = export_int8(tmp_path, data, "posterior")
    assert result.exit_code == 0, result.output
    q = reg.resolve("posterior-int8")["quantization"]["val_accuracy"]
    assert q["fp32"] > 0.9 and q["int8"] >= q["fp32"] - 0.005
