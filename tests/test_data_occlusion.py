"""What the generator's occlusions hid of each digit: recorded for the labelled splits only,
drawing no random numbers (the pairs are the same with it or without it), right where the answer
is known (nothing hidden, everything hidden), and read back by the digit report."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from train_fixtures import fixture_plugins, tiny_config

from pairzoo.data.corruption import RectGroup, corrupt, params_for
from pairzoo.data.generate import DatasetSettings, make_dataset
from pairzoo.data.occlusion import OCCLUSION_FILE, accuracy_by_hidden, read_hidden
from pairzoo.errors import DataError
from pairzoo.train import train_run

SMALL = {"train": 120, "val": 60, "test_public": 30, "test_private": 20}


def digits(n: int = 64) -> np.ndarray:
    """Bright blocks in the middle of the frame: every image has strokes to hide."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 8:20, 10:18] = 255
    return x


def test_recording_what_was_hidden_leaves_the_images_unchanged():
    plain = corrupt(digits(), np.random.default_rng(3), 6.0)
    covered = np.full(64, -1.0, np.float32)
    recorded = corrupt(digits(), np.random.default_rng(3), 6.0, covered=covered)
    np.testing.assert_array_equal(plain, recorded)
    assert ((covered >= 0) & (covered <= 1)).all()
    assert covered.std() > 0  # occlusions differ per image


def test_no_occlusion_hides_nothing_and_a_full_one_hides_everything():
    base = params_for(6.0)
    clear = dataclasses.replace(base, rects=(), line_count=(0, 0.0))
    covered = np.empty(64, np.float32)
    corrupt(digits(), np.random.default_rng(0), 6.0, clear, covered)
    assert (covered == 0).all()
    wall = RectGroup(minimum=1, extra=(0, 0.0), size=(60, 60), centre=(0.5, 0.5))
    out = corrupt(
        digits(), np.random.default_rng(0), 6.0, dataclasses.replace(clear, rects=(wall,)), covered
    )
    assert (out == 0).all() and (covered == 1).all()
    corrupt(digits(), np.random.default_rng(0), 0, covered=covered)
    assert (covered == 0).all()  # severity 0 corrupts nothing


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("occ")
    return out, make_dataset(out, DatasetSettings(seed=5, sizes=SMALL))


def test_the_side_file_covers_the_labelled_splits_only_and_meta_sums_it_up(made):
    out, meta = made
    with np.load(out / OCCLUSION_FILE, allow_pickle=False) as npz:
        hidden = {k: npz[k] for k in npz.files}
    assert sorted(hidden) == ["train", "val"]  # the test splits' hard pairs stay unknown
    for split, hid in hidden.items():
        assert hid.shape == (SMALL[split], 2) and hid.dtype == np.float32
        row = meta["occlusion"]["splits"][split]
        assert row["pairs"] == SMALL[split]
        assert row["mean_hidden"] == pytest.approx(float(hid.mean()), abs=1e-4)
        above = row["pairs_hidden_above"]["0.5"]
        assert above == pytest.approx(float(np.mean(hid.max(axis=1) > 0.5)), abs=1e-4)
    assert json.loads((out / "meta.json").read_text())["files"][OCCLUSION_FILE]


def test_a_severity_range_records_every_half(tmp_path):
    sizes = {"train": 80, "val": 40, "test_public": 10, "test_private": 10}
    make_dataset(tmp_path, DatasetSettings(seed=5, sizes=sizes, severity=(2.0, 9.0)))
    with np.load(tmp_path / OCCLUSION_FILE, allow_pickle=False) as npz:
        train = npz["train"]
    assert ((train >= 0) & (train <= 1)).all() and train.std() > 0


def test_a_side_file_that_does_not_fit_is_refused_naming_file_and_key(made, tmp_path):
    out, _ = made
    assert read_hidden(tmp_path, "val", 60) is None  # data not made here: no file, no report
    assert read_hidden(out, "val", SMALL["val"]).shape == (SMALL["val"], 2)
    with pytest.raises(DataError, match=r"occlusion\.npz: key 'val' is float32 \(60, 2\), "):
        read_hidden(out, "val", 61)
    with pytest.raises(DataError, match=r"occlusion\.npz: key 'test_public' is missing"):
        read_hidden(out, "test_public", 30)


def test_accuracy_by_hidden_bins_every_digit_once():
    hidden = np.array([0.0, 0.5, 0.6, 0.8, 0.95, 1.0], np.float32)
    correct = np.array([1, 1, 1, 0, 0, 1], bool)
    rows = accuracy_by_hidden(correct, hidden)
    assert [r["hidden"] for r in rows] == ["0-0.5", "0.5-0.75", "0.75-0.9", "0.9-1"]
    assert [r["digits"] for r in rows] == [2, 1, 1, 2]
    assert [r["accuracy"] for r in rows] == [1.0, 1.0, 0.0, 0.5]


def test_the_digit_report_reads_digits_by_the_share_hidden(made, tmp_path):
    out, _ = made
    cfg = tiny_config(out, aux_weight=0.5)
    cfg["arch_params"] = {"aux": True}
    with fixture_plugins():
        metrics = train_run(cfg, tmp_path / "run", progress=False)
    rows = metrics["val_digits"]["by_hidden"]
    assert sum(r["digits"] for r in rows) == 2 * SMALL["val"]  # both digits of every val pair
    assert all(r["accuracy"] is None or 0 <= r["accuracy"] <= 1 for r in rows)
