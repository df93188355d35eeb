"""Data-parallel training under torchrun: two gloo processes on the CPU, one thread each."""

import json
import shutil
import subprocess
import sys
import time

import pytest
import torch
from click.testing import CliRunner
from train_fixtures import PLUGINS_DIR, make_data

from pairzoo.cli import main
from pairzoo.plugins import load_plugins
from pairzoo.train import train_run
from pairzoo.train.rundir import load_run

pytestmark = pytest.mark.slow

# The fixture tower without BatchNorm and dropout, whose per-process batch statistics and masks
# would make two processes differ from one by design; it keeps the digit head (forward_aux).
PLAIN_PLUGIN = (PLUGINS_DIR / "tinyplain.py").read_text()

RUN_FILES = {
    "config.json",
    "history.json",
    "last.pt",
    "metrics.json",
    "model.pt",
    "tb",
    "train.log",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("ddp") / "data")


def _torchrun(*args):
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "pairzoo", "train", *map(str, args),
    ]  # fmt: skip


def _history(out):
    return [
        {k: v for k, v in row.items() if k != "time_s"}
        for row in json.loads((out / "history.json").read_text())
    ]


def _metrics(out):
    metrics = json.loads((out / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if k not in ("train_time_s", "name")}


@pytest.mark.usefixtures("fp32_training")
def test_two_processes_train_as_one_with_the_same_global_batch(data, tmp_path):
    """`--nproc 2` (gloo) against one process, same config and global batch 32 (16 per rank).

    Tolerance: relative 1e-4 on losses, learning rates, gradient norms and weights (L2), equal
    accuracies. With no BatchNorm, no dropout and no augmentation, both runs compute the same
    gradients; only the order of float32 sums differs (two means of 16 averaged by the all-reduce
    against one mean of 32), about 1e-7 per step (3e-7 on the weights, measured, after 16 steps).
    A shard that overlaps, a schedule counting per-rank steps or a gradient summed instead of
    averaged each moves the weights by 1e-2 or more. The digit head trains through DDP too.
    """
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tinyplain.py").write_text(PLAIN_PLUGIN)
    args = [
        "--data", data, "--arch", "tinyplain", "--loss", "bce", "--plugins-dir", plugins,
        "--epochs", 2, "--batch-size", 32, "--lr", 0.03, "--seed", 7, "--threads", 1,
        "--device", "cpu", "--patience", 0, "--no-augment", "--no-swap", "--no-progress",
    ]  # fmt: skip
    two = tmp_path / "two"
    result = CliRunner().invoke(main, ["train", "--nproc", "2", "--out", str(two), *map(str, args)])
    assert result.exit_code == 0, result.output

    config = json.loads((two / "config.json").read_text())
    assert config["arch"] == "tinyplain" and config["train"]["lr"] == 0.03  # options relaunched
    assert config["train"]["augment"] is False and config["train"]["epochs"] == 2
    load_plugins(plugins)
    try:
        train_run(config, tmp_path / "one", progress=False)
        two_run = load_run(two)  # rank 0 saved the bare model's weights
    finally:
        load_plugins(None)
    one = tmp_path / "one"
    assert _metrics(two)["config_hash"] == _metrics(one)["config_hash"]  # world size not hashed
    for a, b in zip(_history(two), _history(one), strict=True):
        for key in ("train_loss", "val_loss", "lr", "grad_norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), key
        for key in ("train_accuracy", "val_accuracy", "best"):
            assert a[key] == b[key], key
    w2 = torch.load(two / "last.pt", weights_only=True)["model"]
    w1 = torch.load(one / "last.pt", weights_only=True)["model"]
    assert set(w2) == set(w1) == set(two_run.model.state_dict())
    diff = sum(float((w2[k] - w1[k]).square().sum()) for k in w1)
    assert diff**0.5 <= 1e-4 * sum(float(w1[k].square().sum()) for k in w1) ** 0.5
    for split in ("val", "test_public"):
        assert _metrics(two)[split] == pytest.approx(_metrics(one)[split], rel=1e-4), split

    # Rank 0 alone wrote the run: one TensorBoard file, one log header naming the world.
    assert {p.name for p in two.iterdir()} == RUN_FILES
    assert len(list((two / "tb").iterdir())) == 1
    log = (two / "train.log").read_text()
    assert log.count(" started: ") == 1 and "world size 2, backend gloo" in log


def test_resume_after_epoch_one_matches_an_uninterrupted_run(data, tmp_path):
    """Two ranks with BatchNorm, dropout, augmentation and swap: each rank's random streams are
    in last.pt, so a run resumed from its state after epoch 1 ends exactly as one never stopped.

    The run directory is copied as it stood when epoch 1's checkpoint appeared (the fixture
    model sleeps 0.1 s per batch, so epoch 2 writes nothing for a while): the state a kill
    right after that checkpoint leaves behind.
    """
    args = [
        "--data", data, "--arch", "tinypair", "--loss", "tinybce", "--plugins-dir", PLUGINS_DIR,
        "--arch-param", "aux=true", "--arch-param", "sleep=0.1", "--epochs", 2,
        "--batch-size", 32, "--lr", 0.03, "--seed", 7, "--threads", 1, "--device", "cpu",
        "--patience", 0, "--no-progress",
    ]  # fmt: skip
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    proc = subprocess.Popen(
        _torchrun("--out", straight, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not (straight / "last.pt").exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.01)
        shutil.copytree(straight, stopped)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()[-3000:]
    assert torch.load(stopped / "last.pt", weights_only=True)["epoch"] == 1
    assert not json.loads((stopped / "metrics.json").read_text())["finished"]

    run = subprocess.run(
        _torchrun("--out", stopped, "--resume", *args), capture_output=True, timeout=120
    )
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    assert "resumed after epoch 1" in (stopped / "train.log").read_text()
    assert _history(stopped) == _history(straight)
    assert _metrics(stopped) == _metrics(straight)


def test_batch_size_not_divisible_by_the_world_fails_before_the_process_group(
    data, tmp_path, monkeypatch
):
    """Rank 1 of two, as torchrun starts it: the check needs no other rank, so every rank fails
    at once with exit status 1 (torchrun then exits 1), and none waits on a collective."""
    for key, value in (("WORLD_SIZE", 2), ("RANK", 1), ("LOCAL_RANK", 1), ("LOCAL_WORLD_SIZE", 2)):
        monkeypatch.setenv(key, str(value))
    args = [
        "train", "--out", str(tmp_path / "run"), "--data", str(data), "--arch", "tinypair",
        "--loss", "tinybce", "--plugins-dir", str(PLUGINS_DIR), "--batch-size", "33",
        "--threads", "1", "--device", "cpu", "--no-progress",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    load_plugins(None)
    assert result.exit_code == 1
    assert (
        "rank 1: train.batch_size 33 is the global batch, split evenly over 2 processes: "
        "expected a multiple of 2, e.g. 32"
    ) in result.output
    assert not (tmp_path / "run").exists()
