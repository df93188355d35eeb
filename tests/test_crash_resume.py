"""A training run SIGKILLed anywhere (mid-epoch, after a checkpoint, inside an atomic write, again
after resuming) resumes to exactly the metrics and weights of a run that was never killed."""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from crash_fixtures import (
    checkpoint_epoch,
    comparable_history,
    comparable_metrics,
    describe_run,
    finish,
    kill,
    stamp,
    start,
    temp_files,
    train_args,
    wait_for,
    weights,
)
from train_fixtures import fixture_plugins, make_data, tiny_config

from pairzoo.cli import main
from pairzoo.plugins import load_plugins
from pairzoo.train import train_run

pytestmark = pytest.mark.slow

EPOCHS = 3
SLEEP = 0.05  # per training batch, 8 batches an epoch: epochs of about 0.4 s to kill inside
EPOCH_S = 8 * SLEEP
SEED = 20261128  # of the random kill points; the points hit are printed (pytest -rP shows them)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("crash-data"))


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """The uninterrupted run (no sleep: sleeping changes no number, only the config hash)."""
    out = tmp_path_factory.mktemp("straight") / "run"
    cfg = tiny_config(data, epochs=EPOCHS, patience=0)
    cfg["arch_params"] = {"sleep": 0.0}
    with fixture_plugins():
        train_run(cfg, out, progress=False)
    return out


def _random_chain(data, run, rng, kills):
    """Kill each process at a random point (seeded) of what it has left to do: a random time
    after a random batch, or just before or after a random write of a random file lands."""
    hit = []
    while len(hit) < kills and checkpoint_epoch(run) < EPOCHS:
        left = EPOCHS - checkpoint_epoch(run)
        if rng.random() < 0.5:
            batch, delay = int(rng.integers(1, 8 * left + 1)), float(rng.uniform(0, 3 * SLEEP))
            spec, what = f"batch:{batch}:{delay:.3f}", f"{delay:.2f} s after batch {batch}"
        else:
            name = str(rng.choice(["last.pt", "history.json", "metrics.json", "train.log"]))
            when, nth = str(rng.choice(["before", "after"])), int(rng.integers(1, left + 1))
            spec, what = f"{when}:replace:*/{name}:{nth}", f"{when} write {nth} of {name}"
        proc = start(train_args(data, run, EPOCHS, SLEEP, "--resume"), spec)
        state = describe_run(run, EPOCHS) if finish(proc) == -9 else "finished first; no kill"
        hit.append(f"random, {what} of this process: {state}")
    return hit


def _event_chain(data, run, rng):
    """Kill at chosen points: after a checkpoint, mid-epoch, inside the atomic writes."""
    hit = []

    # 1. right after the first checkpoint lands
    proc = start(train_args(data, run, EPOCHS, SLEEP))
    assert wait_for(lambda: (run / "last.pt").exists(), proc)
    assert kill(proc)
    hit.append("as soon as checkpoint 1 landed: " + describe_run(run, EPOCHS))

    # 2. (killed twice) inside the write of checkpoint 2: temp file complete, not renamed yet
    hit.append(_die_at(data, run, "before:replace:*/last.pt:1", "inside the write of last.pt"))

    # 3. mid-epoch 3: a random share of the epoch after checkpoint 2 lands
    before = stamp(run / "last.pt")
    proc = start(train_args(data, run, EPOCHS, SLEEP, "--resume"))
    assert wait_for(lambda: stamp(run / "last.pt") != before, proc)
    share = float(rng.uniform(0.25, 0.75))
    time.sleep(share * EPOCH_S)
    assert kill(proc), "the run finished before it could be killed mid-epoch"
    hit.append(f"{share:.0%} into an epoch: " + describe_run(run, EPOCHS))

    # 4. between the writes of one epoch: history.json renamed into place, last.pt not yet
    hit.append(_die_at(data, run, "after:replace:*/history.json:1", "after history.json"))

    # 5. inside the final write: metrics.json of the finished run, before its rename
    hit.append(_die_at(data, run, "before:replace:*/metrics.json:2", "inside the final write"))
    return hit


def _die_at(data, run, spec, what):
    proc = start(train_args(data, run, EPOCHS, SLEEP, "--resume"), die_at=spec)
    assert finish(proc) == -9, f"the run never reached {spec}"
    return f"{what} ({spec}): " + describe_run(run, EPOCHS)


def _resume_to_the_end(data, run):
    result = CliRunner().invoke(main, train_args(data, run, EPOCHS, SLEEP, "--resume"))
    load_plugins(None)
    assert result.exit_code == 0, result.output


def _assert_same_as_straight(run, straight):
    assert comparable_metrics(run / "metrics.json") == comparable_metrics(straight / "metrics.json")
    assert comparable_history(run / "history.json") == comparable_history(straight / "history.json")
    got, want = weights(run / "model.pt"), weights(straight / "model.pt")
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert temp_files(run) == []  # what the killed writers left is gone


def test_runs_killed_anywhere_resume_to_the_uninterrupted_result(data, straight, tmp_path):
    rng = np.random.default_rng(SEED)
    random_run, event_run = tmp_path / "random", tmp_path / "events"
    with ThreadPoolExecutor(2) as pool:  # the two chains overlap their sleeps
        random_hits = pool.submit(_random_chain, data, random_run, rng.spawn(1)[0], 3)
        event_hits = pool.submit(_event_chain, data, event_run, rng.spawn(1)[0])
        hits = random_hits.result() + event_hits.result()
    print("\n".join(["kill points hit:", *hits]))
    kills = [h for h in hits if "no kill" not in h]
    assert len(kills) >= 7, hits
    for run in (random_run, event_run):
        _resume_to_the_end(data, run)
        _assert_same_as_straight(run, straight)
