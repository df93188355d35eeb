"""No checkpoint handed to pairzoo runs code: every path that loads model.pt or last.pt refuses
a hostile pickle with one line naming the file, exit code 1, and the payload never runs."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from export_fixtures import make_data
from security_fixtures import VARIANTS, plant

from pairzoo.cli import main

REFUSAL = "could run code"

# One model, the cheapest builtin architecture, no ensemble: what `train-all` resumes or exports.
ZOO = """
    [settings]
    min_val_accuracy = 0.0
    [ensemble]
    enabled = false
    [defaults]
    arch = "baseline"
    arch_params = { width_mult = 0.125, feat_dim = 8 }
    [defaults.train]
    epochs = 1
    batch_size = 16
    subset = 64
    eval_batch_size = 256
    augment = false
    threads = 1
    device = "cpu"
    [models.victim]
    seed = 1
"""


@dataclass
class Case:
    run: Path  # a copy of the trained run, its checkpoint replaced
    runs: Path  # the runs directory holding it (named "victim", as in ZOO)
    data: Path
    zoo: Path
    registry: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished run of ZOO's model, trained once for every test here."""
    from pairzoo.train import train_run
    from pairzoo.zoo.spec import load_zoo

    root = tmp_path_factory.mktemp("security-ckpt")
    data = make_data(root / "data")
    zoo = root / "zoo.toml"
    zoo.write_text(textwrap.dedent(ZOO))
    (model,) = load_zoo(zoo, "full").models
    before = torch.get_num_threads()
    train_run({**model.config, "data": str(data)}, root / "runs" / "victim", progress=False)
    torch.set_num_threads(before)
    return root


def cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def api_load_run(c: Case) -> tuple[int, str]:
    from pairzoo.errors import RunError
    from pairzoo.train.rundir import load_run

    try:
        load_run(c.run)
    except RunError as exc:
        return 1, f"Error: {exc}"
    return 0, "loaded"


def api_train_run_resume(c: Case) -> tuple[int, str]:
    from pairzoo.errors import RunError
    from pairzoo.train import train_run

    config = json.loads((c.run / "config.json").read_text())
    try:
        train_run(config, c.run, resume=True, progress=False)
    except RunError as exc:
        return 1, f"Error: {exc}"
    return 0, "trained"


def train_all(c: Case) -> tuple[int, str]:
    return cli(
        "train-all",
        "--zoo",
        c.zoo,
        "--data",
        c.data,
        "--runs",
        c.runs,
        "--registry",
        c.registry,
        "--no-progress",
    )


# name -> (file planted, run left unfinished?, how the path is taken, output is only the error)
# A new loading path is one line here.
PATHS = {
    "train --resume": (
        "last.pt",
        True,
        lambda c: cli("train", "--resume", "--out", c.run, "--no-progress"),
        True,
    ),
    "train_run(resume=True)": ("last.pt", True, api_train_run_resume, True),
    "train-all, resuming": ("last.pt", True, train_all, False),
    "eval --model": (
        "model.pt",
        False,
        lambda c: cli("eval", "--model", c.run, "--data", c.data, "--device", "cpu"),
        True,
    ),
    "export RUN": (
        "model.pt",
        False,
        lambda c: cli("export", c.run, "--registry", c.registry),
        True,
    ),
    "export --all": (
        "model.pt",
        False,
        lambda c: cli("export", "--all", c.runs, "--registry", c.registry),
        False,
    ),
    "train-all, exporting": ("model.pt", False, train_all, False),
    "rundir.load_run": ("model.pt", False, api_load_run, True),
}


@pytest.fixture
def case(trained, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(trained / "runs" / "victim", runs / "victim")
    return Case(runs / "victim", runs, trained / "data", trained / "zoo.toml", tmp_path / "reg")


def _unfinish(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**metrics, "finished": False}))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", list(PATHS))
def test_hostile_checkpoint_is_refused_and_never_runs(case, path, variant, tmp_path):
    filename, unfinished, take, only_error = PATHS[path]
    marker = tmp_path / "code-ran"
    if unfinished:
        _unfinish(case.run)
    plant(case.run / filename, variant, marker)
    torch_threads = torch.get_num_threads()
    code, output = take(case)
    torch.set_num_threads(torch_threads)
    assert not marker.exists(), f"{path}: the pickle's code ran"
    assert code == 1, output
    refusals = [line for line in output.splitlines() if REFUSAL in line]
    assert refusals, output
    for line in refusals:
        assert str(case.run / filename) in line and "refused to load" in line, line
    if only_error:
        assert output.strip().splitlines() == refusals and output.startswith("Error: "), output


def test_a_genuine_checkpoint_still_loads(case):
    """The refusals above come from the payload, not from a loader that refuses everything."""
    code, output = api_load_run(case)
    assert (code, output) == (0, "loaded")


def test_weights_only_holds_even_when_torch_is_told_to_drop_it(case, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "code-ran"
    plant(case.run / "model.pt", "torch-save", marker)
    code, output = api_load_run(case)
    assert code == 1 and REFUSAL in output
    assert not marker.exists()
