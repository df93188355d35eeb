"""--resume after SIGKILL reaches exactly the metrics of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
from train_fixtures import PLUGINS_DIR, fixture_plugins, make_data, tiny_config

from pairzoo.cli import main
from pairzoo.plugins import load_plugins
from pairzoo.train import train_run

EPOCHS = 3


def _args(data, out, *extra):
    return [
        "train", "--data", str(data), "--out", str(out),
        "--arch", "tinypair", "--loss", "tinybce", "--plugins-dir", str(PLUGINS_DIR),
        "--epochs", str(EPOCHS), "--batch-size", "32", "--lr", "0.01", "--seed", "7",
        "--threads", "1", "--patience", "0", "--arch-param", "sleep=0.05", "--no-progress", *extra,
    ]  # fmt: skip


def _comparable(path):
    metrics = json.loads(path.read_text())
    metrics.pop("train_time_s")
    return metrics


def test_killed_run_resumes_to_the_same_metrics(tmp_path):
    data = make_data(tmp_path / "data")
    out = tmp_path / "killed"
    # The fixture model sleeps 0.05 s per training batch (8 per epoch): time to kill between epochs.
    cmd = [sys.executable, "-m", "pairzoo", *_args(data, out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "last.pt").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint after 60 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not json.loads((out / "metrics.json").read_text())["finished"]

    resumed = CliRunner().invoke(main, _args(data, out, "--resume"))
    load_plugins(None)
    assert resumed.exit_code == 0, resumed.output
    assert "resumed after epoch" in (out / "train.log").read_text()

    cfg = tiny_config(data, epochs=EPOCHS, patience=0)
    cfg["arch_params"] = {"sleep": 0.0}  # sleeping changes no numbers, only the config hash
    with fixture_plugins():
        train_run(cfg, tmp_path / "straight", progress=False)
    killed, straight = (
        _comparable(out / "metrics.json"),
        _comparable(tmp_path / "straight" / "metrics.json"),
    )
    for key in ("config_hash", "name"):
        killed.pop(key), straight.pop(key)
    assert killed == straight
    history = [_no_time(row) for row in json.loads((out / "history.json").read_text())]
    expected = [
        _no_time(row) for row in json.loads((tmp_path / "straight" / "history.json").read_text())
    ]
    assert history == expected and len(history) == EPOCHS


def _no_time(row):
    return {k: v for k, v in row.items() if k != "time_s"}
