"""The pair format: exact round trip, and one clear DataError for each kind of bad file."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from pairzoo.data.format import load_data_dir, load_split, save_split, split_pairs
from pairzoo.data.labels_csv import write_labels
from pairzoo.data.npz import MAX_ARRAY_BYTES, read_arrays, write_arrays
from pairzoo.errors import DataError


def pairs(n: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 56), dtype=np.uint8)
    ids = np.array([f"TRN_{i:07d}" for i in range(n)])
    y = np.arange(n) % 2
    return x, ids, y


def raw_npz(path, **arrays) -> None:
    """Write with numpy itself (allow_pickle on), as another tool would."""
    np.savez(path, **arrays)


def test_round_trip_keeps_the_exact_format(tmp_path):
    x, ids, y = pairs()
    digits = np.stack([np.arange(6) % 10, (np.arange(6) + 1) % 10], axis=1)
    save_split(tmp_path / "train.npz", x, ids, y=y.astype(np.int32), digits=digits)
    with np.load(tmp_path / "train.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["digits", "id", "x", "y"]
        assert npz["x"].dtype == np.uint8 and npz["x"].shape == (6, 28, 56)
        assert npz["y"].dtype == np.int64
        assert npz["id"].dtype.kind == "U"
        assert npz["digits"].dtype == np.int64
    split = load_split(tmp_path / "train.npz")
    assert np.array_equal(split.x, x) and np.array_equal(split.ids, ids)
    assert np.array_equal(split.y, y) and np.array_equal(split.digits, digits)
    assert len(split) == 6


def test_writes_are_byte_identical(tmp_path):
    x, ids, y = pairs()
    save_split(tmp_path / "a.npz", x, ids, y=y)
    save_split(tmp_path / "b.npz", x, ids, y=y)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_reads_files_written_by_numpy_and_ignores_extra_keys(tmp_path):
    x, ids, y = pairs()
    raw_npz(tmp_path / "t.npz", x=x, y=y.astype(np.int32), id=ids, extra=np.zeros(3))
    split = load_split(tmp_path / "t.npz")
    assert split.y.dtype == np.int64 and split.digits is None
    np.savez_compressed(tmp_path / "c.npz", x=x, id=ids)
    assert load_split(tmp_path / "c.npz").y is None


def test_test_public_takes_labels_from_the_csv(tmp_path):
    x, ids, y = pairs()
    save_split(tmp_path / "test_public.npz", x, ids)
    order = np.arange(6)[::-1]
    write_labels(tmp_path / "test_public_labels.csv", ids[order], y[order])
    split = load_data_dir(tmp_path, "test_public")
    assert np.array_equal(split.y, y)


def test_unlabelled_train_is_refused_by_load_data_dir(tmp_path):
    x, ids, _ = pairs()
    save_split(tmp_path / "train.npz", x, ids)
    with pytest.raises(DataError, match=r"train\.npz: key 'y' is missing"):
        load_data_dir(tmp_path, "train")


def test_unknown_split(tmp_path):
    with pytest.raises(DataError, match="unknown split 'tain'"):
        load_data_dir(tmp_path, "tain")


BAD = {
    "missing x": (lambda x, ids, y: {"id": ids, "y": y}, r"key 'x' is missing"),
    "missing id": (lambda x, ids, y: {"x": x, "y": y}, r"key 'id' is missing"),
    "x dtype": (
        lambda x, ids, y: {"x": x.astype(np.float32), "id": ids},
        r"key 'x' has dtype float32, expected uint8",
    ),
    "x shape": (
        lambda x, ids, y: {"x": x[:, :, :28], "id": ids},
        r"key 'x' has shape \(6, 28, 28\), expected \(N, 28, 56\)",
    ),
    "y values": (
        lambda x, ids, y: {"x": x, "id": ids, "y": y + 1},
        r"key 'y' has label 2 at row 1, expected labels in \{0, 1\}",
    ),
    "y dtype": (
        lambda x, ids, y: {"x": x, "id": ids, "y": y.astype(float)},
        r"key 'y' has dtype float64, expected an integer",
    ),
    "y length": (
        lambda x, ids, y: {"x": x, "id": ids, "y": y[:5]},
        r"key 'y' has 5 entries but 'x' has 6 pairs",
    ),
    "id length": (
        lambda x, ids, y: {"x": x, "id": ids[:4]},
        r"key 'id' has 4 entries but 'x' has 6 pairs",
    ),
    "id duplicate": (
        lambda x, ids, y: {"x": x, "id": np.array(["A", "B", "A", "C", "D", "E"])},
        r"1 duplicate ids \(first: 'A'\)",
    ),
    "id dtype": (
        lambda x, ids, y: {"x": x, "id": np.arange(6)},
        r"key 'id' has dtype int64, expected str",
    ),
    "id object": (
        lambda x, ids, y: {"x": x, "id": ids.astype(object)},
        r"key 'id' holds Python objects",
    ),
    "x object": (
        lambda x, ids, y: {"x": np.array([None] * 6), "id": ids},
        r"key 'x' holds Python objects",
    ),
    "digits range": (
        lambda x, ids, y: {"x": x, "id": ids, "digits": np.full((6, 2), 10)},
        r"key 'digits' holds values outside 0-9",
    ),
    "digits shape": (
        lambda x, ids, y: {"x": x, "id": ids, "digits": np.zeros((6, 3), int)},
        r"key 'digits' has shape \(6, 3\)",
    ),
    "empty": (lambda x, ids, y: {"x": x[:0], "id": ids[:0]}, r"key 'x' holds no pairs"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_split_gives_one_clear_line(tmp_path, case):
    make, message = BAD[case]
    path = tmp_path / "train.npz"
    raw_npz(path, **make(*pairs()))
    with pytest.raises(DataError, match=message) as err:
        load_split(path)
    text = str(err.value)
    assert text.startswith(str(path)) and "\n" not in text


def test_save_split_validates_too(tmp_path):
    x, ids, y = pairs()
    with pytest.raises(DataError, match="key 'y' has label 3"):
        save_split(tmp_path / "t.npz", x, ids, y=y * 3)
    assert not (tmp_path / "t.npz").exists()


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_split(tmp_path / "nope.npz")


def test_not_a_zip(tmp_path):
    path = tmp_path / "train.npz"
    path.write_bytes(b"this is not an npz file at all")
    with pytest.raises(DataError, match=r"not a readable \.npz archive"):
        load_split(path)


def test_truncated_file(tmp_path):
    x, ids, y = pairs(50)
    path = tmp_path / "train.npz"
    save_split(path, x, ids, y=y)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(DataError, match=str(path)):
            load_split(path)


def test_corrupted_member_data(tmp_path):
    x, ids, y = pairs(50)
    path = tmp_path / "train.npz"
    save_split(path, x, ids, y=y)
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF  # inside x's data: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupt"):
        load_split(path)


def forged_npz(path, shape) -> None:
    """An npz whose x header declares `shape` but which holds 10 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", header.getvalue() + bytes(10))  # the header carries the magic
        zf.writestr("id.npy", b"")


def test_absurd_declared_size_is_refused_before_reading(tmp_path):
    path = tmp_path / "train.npz"
    forged_npz(path, (10**12, 28, 56))
    with pytest.raises(
        DataError,
        match=rf"key 'x' declares shape \(1000000000000, 28, 56\).*at most {MAX_ARRAY_BYTES}",
    ):
        load_split(path)


def test_declared_size_must_match_the_member(tmp_path):
    path = tmp_path / "train.npz"
    forged_npz(path, (100, 28, 56))
    with pytest.raises(
        DataError,
        match=r"declares shape \(100, 28, 56\) of uint8 \(156800 bytes\) but holds 10 bytes",
    ):
        load_split(path)


def test_read_arrays_leaves_out_absent_keys(tmp_path):
    write_arrays(tmp_path / "a.npz", {"a": np.arange(3)})
    assert list(read_arrays(tmp_path / "a.npz", ["a", "b"])) == ["a"]


def test_split_pairs_counts_a_split_without_reading_its_images(tmp_path):
    x = np.zeros((5, 28, 56), np.uint8)
    save_split(tmp_path / "val.npz", x, [f"V{i}" for i in range(5)], y=np.zeros(5, int))
    assert split_pairs(tmp_path, "val") == 5
    assert split_pairs(tmp_path, "train") == 0  # no file
    write_arrays(tmp_path / "test_public.npz", {"x": x})
    with pytest.raises(DataError, match=r"test_public\.npz: key 'id' is missing"):
        split_pairs(tmp_path, "test_public")
