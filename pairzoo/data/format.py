"""The pair data format, read, validated and written exactly.

A split file holds `x` uint8 (N, 28, 56) (left digit in columns 0-27, right digit in 28-55),
`id` str (N,), and in labelled splits `y` int (N,) in {0, 1}. Generated train/val files also hold
`digits` int64 (N, 2), the classes of the two source digits; readers ignore any other key.
The labels of `test_public` live in `test_public_labels.csv` (`id,label`).
`read_meta` and `data_fingerprint` (from `pairzoo.data.meta`) are re-exported here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pairzoo.data.labels_csv import read_labels
from pairzoo.data.meta import data_fingerprint, read_meta
from pairzoo.data.npz import read_arrays, write_arrays
from pairzoo.errors import DataError

__all__ = [
    "LABELS_CSV",
    "SPLITS",
    "PairSplit",
    "data_fingerprint",
    "load_data_dir",
    "load_split",
    "read_meta",
    "save_split",
    "split_pairs",
    "split_path",
    "validate_split",
]

SPLITS = ("train", "val", "test_public", "test_private")
LABELLED = ("train", "val")
LABELS_CSV = "test_public_labels.csv"
PAIR_SHAPE = (28, 56)


@dataclass
class PairSplit:
    x: np.ndarray  # uint8 (N, 28, 56)
    ids: np.ndarray  # numpy unicode (N,)
    y: np.ndarray | None = None  # int64 (N,) in {0, 1}
    digits: np.ndarray | None = None  # int64 (N, 2) in 0..9
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.x)


def split_path(data_dir: str | os.PathLike, split: str) -> Path:
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}' (available: {', '.join(SPLITS)})")
    return Path(data_dir) / f"{split}.npz"


def split_pairs(data_dir: str | os.PathLike, split: str) -> int:
    """How many pairs `split` of a data directory holds (0 without its file), read from its ids
    alone: sizing work by a split need not read its images."""
    path = split_path(data_dir, split)
    if not path.is_file():
        return 0
    ids = read_arrays(path, ["id"]).get("id")
    if ids is None:
        raise DataError(
            f"{path}: key 'id' is missing, expected keys x, id (and y in labelled splits)"
        )
    return len(ids)


def load_split(path: str | os.PathLike) -> PairSplit:
    """Read and validate one split file; `y` and `digits` are None where absent. Raises DataError."""
    path = Path(path)
    arrays = read_arrays(path, ["x", "id", "y", "digits"])
    for key in ("x", "id"):
        if key not in arrays:
            raise DataError(
                f"{path}: key '{key}' is missing, expected keys x, id (and y in labelled splits)"
            )
    split = PairSplit(arrays["x"], arrays["id"], arrays.get("y"), arrays.get("digits"), path)
    return validate_split(split, str(path))


def validate_split(split: PairSplit, where: str) -> PairSplit:
    """Check `split` against the format; returns it with y/digits as int64. Raises DataError."""
    x, ids = split.x, split.ids
    if x.dtype != np.uint8:
        raise DataError(f"{where}: key 'x' has dtype {x.dtype}, expected uint8")
    if x.ndim != 3 or x.shape[1:] != PAIR_SHAPE:
        raise DataError(f"{where}: key 'x' has shape {x.shape}, expected (N, 28, 56)")
    n = len(x)
    if n == 0:
        raise DataError(f"{where}: key 'x' holds no pairs, expected at least one")
    if ids.dtype.kind != "U":
        raise DataError(
            f"{where}: key 'id' has dtype {ids.dtype}, expected str (numpy unicode '<U..')"
        )
    _check_length(where, "id", ids, n)
    if (np.char.str_len(ids) == 0).any():
        raise DataError(
            f"{where}: key 'id' has an empty id at row {int(np.argmax(np.char.str_len(ids) == 0))}"
        )
    uniq, counts = np.unique(ids, return_counts=True)
    if len(uniq) != n:
        dup = uniq[counts > 1]
        raise DataError(
            f"{where}: key 'id' has {len(dup)} duplicate ids (first: {str(dup[0])[:60]!r}), "
            "expected unique ids"
        )
    y = None if split.y is None else _check_labels(where, split.y, n)
    digits = None if split.digits is None else _check_digits(where, split.digits, n)
    return PairSplit(x, ids, y, digits, split.path)


def _check_length(where: str, key: str, array: np.ndarray, n: int) -> None:
    if array.ndim != 1 and key != "digits":
        raise DataError(f"{where}: key '{key}' has shape {array.shape}, expected ({n},)")
    if len(array) != n:
        raise DataError(f"{where}: key '{key}' has {len(array)} entries but 'x' has {n} pairs")


def _check_labels(where: str, y: np.ndarray, n: int) -> np.ndarray:
    if y.dtype.kind not in "iu":
        raise DataError(f"{where}: key 'y' has dtype {y.dtype}, expected an integer dtype")
    _check_length(where, "y", y, n)
    bad = (y != 0) & (y != 1)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{where}: key 'y' has label {y[row]} at row {row}, expected labels in {{0, 1}}"
        )
    return y.astype(np.int64)


def _check_digits(where: str, digits: np.ndarray, n: int) -> np.ndarray:
    if digits.dtype.kind not in "iu":
        raise DataError(
            f"{where}: key 'digits' has dtype {digits.dtype}, expected an integer dtype"
        )
    if digits.ndim != 2 or digits.shape[1] != 2:
        raise DataError(f"{where}: key 'digits' has shape {digits.shape}, expected ({n}, 2)")
    _check_length(where, "digits", digits, n)
    if ((digits < 0) | (digits > 9)).any():
        raise DataError(f"{where}: key 'digits' holds values outside 0-9")
    return digits.astype(np.int64)


def save_split(
    path: str | os.PathLike,
    x: np.ndarray,
    ids,
    y: np.ndarray | None = None,
    digits: np.ndarray | None = None,
) -> None:
    """Validate and write one split atomically: keys x, y (if given), id, digits (if given).

    `y` is written as int64 and ids as numpy unicode. Never pass `digits` for a test split: the
    source digit classes give its labels away.
    """
    ids = np.asarray(ids, dtype=str)
    split = validate_split(PairSplit(np.asarray(x), ids, _array(y), _array(digits)), str(path))
    arrays = {"x": split.x}
    if split.y is not None:
        arrays["y"] = split.y
    arrays["id"] = split.ids
    if split.digits is not None:
        arrays["digits"] = split.digits
    write_arrays(path, arrays)


def _array(a) -> np.ndarray | None:
    return None if a is None else np.asarray(a)


def load_data_dir(data_dir: str | os.PathLike, split: str) -> PairSplit:
    """Load `split` from a data directory: train/val must carry labels; test_public takes its
    labels from test_public_labels.csv (None if that file is absent); test_private may lack them."""
    path = split_path(data_dir, split)
    data = load_split(path)
    if split in LABELLED and data.y is None:
        raise DataError(f"{path}: key 'y' is missing, expected labels y int (N,) in {{0, 1}}")
    if split == "test_public":
        csv = Path(data_dir) / LABELS_CSV
        if csv.is_file():
            y = read_labels(csv, data.ids)
            if data.y is not None and not np.array_equal(data.y, y):
                raise DataError(f"{path}: key 'y' disagrees with {csv}")
            data.y = y
    return data


def read_unlabelled(path: str | Path) -> PairSplit:
    """The pairs and ids of one pair file as a PairSplit; its labels, if any, are never read."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file, expected a pair file (.npz with keys x, id)")
    arrays = read_arrays(path, ["x", "id"])  # only these keys: labels stay unread
    for key in ("x", "id"):
        if key not in arrays:
            raise DataError(f"{path}: key '{key}' is missing, expected keys x, id")
    return validate_split(PairSplit(arrays["x"], arrays["id"], path=path), str(path))
