"""Out-of-tree architecture plugins train: a loose file, and an installed distribution."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from train_fixtures import make_data

from pairzoo.cli import main
from pairzoo.plugins import load_plugins

PLUGIN = textwrap.dedent(
    """
    import torch
    from torch import nn
    from pairzoo.hookspecs import hookimpl

    __version__ = "2.5"


    class Throwaway(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 4))
            self.out = nn.Linear(4, 1)

        def forward(self, xa, xb):
            return self.out(self.net(xa) - self.net(xb)).squeeze(1)


    class SquaredError(nn.Module):
        def forward(self, logits, targets, teacher_logits=None):
            return ((torch.sigmoid(logits) - targets) ** 2).mean()


    @hookimpl
    def register_architectures(register):
        register("{arch}", Throwaway, params={{"hidden": 8}}, description="a throwaway MLP")


    @hookimpl
    def register_losses(register):
        register("{arch}-mse", SquaredError)
    """
)
FAST = ["--epochs", "1", "--batch-size", "32", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("oot") / "data", n_train=96, n_val=32, n_test=16)


def test_loose_plugin_file_trains(data, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "throwaway.py").write_text(PLUGIN.format(arch="loose"))
    out = tmp_path / "run"
    args = [
        "--arch",
        "loose",
        "--loss",
        "loose-mse",
        "--arch-param",
        "hidden=5",
        "--plugins-dir",
        plugins,
    ]
    result = CliRunner().invoke(
        main, ["train", *FAST, *map(str, args), "--data", str(data), "--out", str(out)]
    )
    load_plugins(None)
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "config.json").read_text())["provenance"]
    assert provenance["arch"] == {"name": "loose", "plugin": "file:throwaway", "version": "2.5"}
    assert provenance["loss"]["plugin"] == "file:throwaway"


def test_installed_distribution_trains_in_a_subprocess(data, tmp_path):
    site = tmp_path / "site"
    (site / "throwaway_dist-1.0.dist-info").mkdir(parents=True)
    (site / "throwaway_dist-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: throwaway-dist\nVersion: 1.0\n"
    )
    (site / "throwaway_dist-1.0.dist-info" / "entry_points.txt").write_text(
        "[pairzoo]\nthrowaway = throwaway_plugin\n"
    )
    (site / "throwaway_plugin.py").write_text(PLUGIN.format(arch="distpair"))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("PAIRZOO_PLUGINS_DIR", None)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "pairzoo",
        "train",
        "--arch",
        "distpair",
        "--loss",
        "distpair-mse",
        *FAST,
    ]
    result = subprocess.run(
        [*cmd, "--data", str(data), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "best epoch 1" in result.stdout
    provenance = json.loads((out / "config.json").read_text())["provenance"]
    assert provenance["arch"] == {
        "name": "distpair",
        "plugin": "throwaway-dist.throwaway",
        "version": "1.0",
    }
    assert json.loads((out / "metrics.json").read_text())["finished"] is True
