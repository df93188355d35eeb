"""`check_path`: what a data directory or file must satisfy, and what is reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pairzoo.data.check import check_path
from pairzoo.data.format import save_split
from pairzoo.data.labels_csv import write_labels
from pairzoo.data.meta import data_fingerprint
from pairzoo.errors import DataError


def write_dir(d, with_public=True):
    rng = np.random.default_rng(0)
    for split, prefix, n in [
        ("train", "TRN", 8),
        ("val", "VAL", 4),
        ("test_public", "PUB", 4),
        ("test_private", "PRV", 4),
    ]:
        if split == "test_public" and not with_public:
            continue
        x = rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8)
        ids = [f"{prefix}_{i:07d}" for i in range(n)]
        y = np.arange(n) % 2
        save_split(d / f"{split}.npz", x, ids, y=y if split in ("train", "val") else None)
        if split == "test_public":
            write_labels(d / "test_public_labels.csv", ids, y)
    return d


def test_valid_directory_without_meta(tmp_path):
    lines = check_path(write_dir(tmp_path))
    assert lines[0] == "train.npz: 8 pairs, x uint8 (8, 28, 56), ids unique, labels 0/1 = 4/4"
    assert lines[2].startswith("test_public.npz + test_public_labels.csv: 4 pairs")
    assert lines[3].endswith("no labels")
    assert lines[-1] == "meta.json: absent (not made by `pairzoo data make`)"


def test_meta_hashes_are_verified(tmp_path):
    from pairzoo.data.meta import sha256_file

    write_dir(tmp_path)
    files = {n: sha256_file(tmp_path / n) for n in ("train.npz", "val.npz")}
    (tmp_path / "meta.json").write_text(json.dumps({"files": files, "sizes": {"train": 8}}))
    assert check_path(tmp_path)[-1] == "meta.json: sha256 matches for train.npz, val.npz"
    assert check_path(tmp_path / "meta.json") == [
        "meta.json: sha256 matches for train.npz, val.npz"
    ]
    (tmp_path / "meta.json").write_text(json.dumps({"files": files, "sizes": {"train": 9}}))
    with pytest.raises(DataError, match="sizes.train is 9 but train.npz holds 8 pairs"):
        check_path(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"files": files}))
    save_split(
        tmp_path / "val.npz",
        np.zeros((4, 28, 56), np.uint8),
        [f"VAL_{i:07d}" for i in range(4)],
        y=[0, 1, 0, 1],
    )
    with pytest.raises(
        DataError, match=r"val\.npz: sha256 is .*the file changed after it was made"
    ):
        check_path(tmp_path)


def test_malformed_meta(tmp_path):
    write_dir(tmp_path)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(DataError, match="meta.json: not valid JSON"):
        check_path(tmp_path)


def test_directory_problems(tmp_path):
    with pytest.raises(DataError, match="train.npz is missing"):
        check_path(tmp_path)
    write_dir(tmp_path, with_public=False)
    assert "test_public.npz: absent" in check_path(tmp_path)
    write_labels(tmp_path / "test_public_labels.csv", ["PUB_0000000"], [1])
    with pytest.raises(
        DataError, match="test_public_labels.csv is present but test_public.npz is missing"
    ):
        check_path(tmp_path)


def test_ids_shared_between_splits(tmp_path):
    write_dir(tmp_path)
    x = np.zeros((2, 28, 56), np.uint8)
    save_split(tmp_path / "val.npz", x, ["TRN_0000001", "VAL_0000001"], y=[0, 1])
    with pytest.raises(DataError, match="id 'TRN_0000001' appears in both train.npz and val.npz"):
        check_path(tmp_path)


def test_single_files(tmp_path):
    write_dir(tmp_path)
    assert check_path(tmp_path / "val.npz")[0].startswith("val.npz: 4 pairs")
    assert check_path(tmp_path / "test_public_labels.csv") == [
        "test_public_labels.csv: 4 labels, ids unique, 0/1 = 2/2"
    ]
    save_split(tmp_path / "train.npz", np.zeros((1, 28, 56), np.uint8), ["A"])
    with pytest.raises(DataError, match="key 'y' is missing"):
        check_path(tmp_path / "train.npz")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="expected a data directory"):
        check_path(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="no such file or directory"):
        check_path(tmp_path / "missing.npz")


def test_fingerprint_follows_content(tmp_path):
    write_dir(tmp_path)
    before = data_fingerprint(tmp_path)
    assert before == data_fingerprint(tmp_path) and len(before) == 64
    write_labels(
        tmp_path / "test_public_labels.csv", [f"PUB_{i:07d}" for i in range(4)], [1, 1, 0, 0]
    )
    assert data_fingerprint(tmp_path) != before
    with pytest.raises(DataError, match="holds none of"):
        data_fingerprint(tmp_path / "missing")


def test_meta_without_hashes_like_the_originals(tmp_path):
    from pairzoo.data.meta import read_meta

    write_dir(tmp_path)
    (tmp_path / "meta.json").write_text(
        json.dumps({"seed": 42, "severity": 6, "weight_diff1": 0.8})
    )
    assert check_path(tmp_path)[-1] == "meta.json: lists no file hashes, nothing to verify"
    assert read_meta(tmp_path)["weight_diff1"] == 0.8
    (tmp_path / "meta.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="holds list, expected a JSON object"):
        read_meta(tmp_path)
