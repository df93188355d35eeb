"""No checkpoint handed to pairzoo runs code: every path that loads model.pt or last.pt refuses
a hostile pickle with one line naming the file, exit code 1, and the payload never runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from export_fixtures import make_data
from registry_fixtures import register_tiny
from security_fixtures import VARIANTS, plant
from zoo_fixtures import NO_ENSEMBLE, tiny_zoo, write_zoo

from pairzoo.cli import main

REFUSAL = "could run code"

# One model, the cheapest builtin architecture, no ensemble: what `train-all` resumes or exports.
ZOO = tiny_zoo(
    {"victim": {"seed": 1}},
    train={
        "epochs": 1,
        "batch_size": 16,
        "subset": 64,
        "eval_batch_size": 256,
        "augment": False,
        "device": "cpu",
    },
    ensemble=NO_ENSEMBLE,
)


@dataclass
class Case:
    run: Path  # a copy of the trained run, its checkpoint replaced
    runs: Path  # the runs directory holding it
    data: Path
    zoo: Path
    registry: Path  # for exports (empty), or holding the ensemble a distilled run learned from
    tmp: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished run of ZOO's model, trained once for every test here."""
    from pairzoo.train import train_run
    from pairzoo.zoo.spec import load_zoo

    root = tmp_path_factory.mktemp("security-ckpt")
    data = make_data(root / "data")
    zoo = write_zoo(root, ZOO)
    (model,) = load_zoo(zoo, "full").models
    before = torch.get_num_threads()
    train_run({**model.config, "data": str(data)}, root / "runs" / "victim", progress=False)
    torch.set_num_threads(before)
    return root


# `pairzoo distill` options of the distilled run (its --out, --data and --registry added).
DISTILL = (
    "--ensemble", "stack", "--arch", "baseline", "--arch-param", "width_mult=0.125",
    "--arch-param", "feat_dim=8", "--epochs", "1", "--batch-size", "16", "--threads", "1",
    "--device", "cpu", "--no-augment", "--no-register", "--no-progress",
)  # fmt: skip


@pytest.fixture(scope="module")
def distilled(trained):
    """A finished `pairzoo distill` run (student of a two-model ensemble), made once."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    reg = Registry(trained / "ensemble-registry")
    for name, scale in (("m0", 10.0), ("m1", 3.0)):
        register_tiny(reg, trained, name=name, scale=scale)
    params = StackingParams(n_estimators=5, folds=2, min_child_samples=2)
    run_ensemble_eval(
        reg, EvalSettings(trained / "data", trained / "report", params=params, name="stack")
    )
    out = trained / "distilled" / "student"
    before = torch.get_num_threads()
    code, output = cli(
        "distill", *DISTILL, "--out", out, "--data", trained / "data", "--registry", reg.root
    )
    torch.set_num_threads(before)
    assert code == 0, output
    return out


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


def export_all(c: Case) -> tuple[int, str]:
    return cli("export", "--all", c.runs, "--registry", c.registry)


def train_init_from(c: Case) -> tuple[int, str]:
    config = c.run / "config.json"
    return cli("train", "--config", config, "--init-from", c.run, "--out", c.tmp / "warm")


def distill_resume(c: Case) -> tuple[int, str]:
    argv = ["--out", c.run, "--data", c.data, "--registry", c.registry]
    return cli("distill", *DISTILL, *argv, "--resume")


def api_tune_publish_best(c: Case) -> tuple[int, str]:
    from pairzoo.errors import RunError
    from pairzoo.tune.best import publish_best

    try:
        publish_best(c.run, c.tmp / "best", "best")
    except RunError as exc:
        return 1, f"Error: {exc}"
    return 0, "published"


@dataclass
class Loader:
    file: str  # the checkpoint planted
    take: Callable[[Case], tuple[int, str]]  # takes the path; (exit code, output)
    unfinished: bool = False  # the run is left unfinished, so that it is resumed
    only_error: bool = True  # the output is the one-line error alone (no report around it)
    source: str = "trained"  # the module fixture whose run is copied


# A new loading path is one line here.
PATHS = {
    "train --resume": Loader("last.pt", lambda c: cli("train", "--resume", "--out", c.run), True),
    "train_run(resume=True)": Loader("last.pt", api_train_run_resume, True),
    "train-all, resuming": Loader("last.pt", train_all, True, only_error=False),
    "eval --model": Loader("model.pt", lambda c: cli("eval", "--model", c.run, "--data", c.data)),
    "export RUN": Loader("model.pt", lambda c: cli("export", c.run, "--registry", c.registry)),
    "export --all": Loader("model.pt", export_all, only_error=False),
    "train-all, exporting": Loader("model.pt", train_all, only_error=False),
    "rundir.load_run": Loader("model.pt", api_load_run),
    "train --init-from": Loader("model.pt", train_init_from),
    "tune: best trial published": Loader("model.pt", api_tune_publish_best),
    "distill --resume, training": Loader("last.pt", distill_resume, True, source="distilled"),
    "distill --resume, finished": Loader("model.pt", distill_resume, source="distilled"),
}  # fmt: skip


def make_case(request, source: str, tmp_path: Path) -> Case:
    trained = request.getfixturevalue("trained")
    run = request.getfixturevalue(source) if source != "trained" else trained / "runs" / "victim"
    registry = trained / "ensemble-registry" if source == "distilled" else tmp_path / "reg"
    runs = tmp_path / "runs"
    shutil.copytree(run, runs / run.name)
    return Case(runs / run.name, runs, trained / "data", trained / "zoo.toml", registry, tmp_path)


@pytest.fixture
def case(request, tmp_path):
    return make_case(request, "trained", tmp_path)


def _unfinish(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**metrics, "finished": False}))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("path", list(PATHS))
def test_hostile_checkpoint_is_refused_and_never_runs(request, path, variant, tmp_path):
    loader = PATHS[path]
    case, filename = make_case(request, loader.source, tmp_path), loader.file
    marker = tmp_path / "code-ran"
    if loader.unfinished:
        _unfinish(case.run)
    plant(case.run / filename, variant, marker)
    torch_threads = torch.get_num_threads()
    code, output = loader.take(case)
    torch.set_num_threads(torch_threads)
    assert not marker.exists(), f"{path}: the pickle's code ran"
    assert code == 1, output
    refusals = [line for line in output.splitlines() if REFUSAL in line]
    assert refusals, output
    named = str(case.run / filename)
    for line in refusals:
        assert named in line and "refused to load" in line, line
    if loader.only_error:
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
