"""`id,label` CSV files: test_public's labels, and prediction files."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from pairzoo.atomic import write_text
from pairzoo.errors import DataError

__all__ = ["HEADER", "read_labels", "read_labels_table", "write_labels"]

HEADER = ["id", "label"]


def read_labels_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(ids, labels) of an `id,label` CSV in file order; labels int64 in {0, 1}. Raises DataError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read as UTF-8 text ({e})") from e
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as e:  # a field over csv's size limit, or a stray quote at the very end
        raise DataError(
            f"{path}: line {reader.line_num} is not valid CSV ({e}), expected id,label rows"
        ) from None
    if not rows or [c.strip() for c in rows[0]] != HEADER:
        found = _shown(",".join(rows[0])) if rows else "'an empty file'"
        raise DataError(f"{path}: header is {found}, expected 'id,label'")
    ids, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2:
            raise DataError(f"{path}: line {line} has {len(row)} fields, expected 2 (id,label)")
        ident, label = row[0].strip(), row[1].strip()
        try:
            value = int(label)
        except ValueError:
            raise DataError(
                f"{path}: line {line} has label {_shown(label)}, expected an integer 0 or 1"
            ) from None
        if value not in (0, 1):
            raise DataError(f"{path}: line {line} has label {value}, expected 0 or 1")
        ids.append(ident)
        labels.append(value)
    ids_arr = np.asarray(ids, dtype=str)
    uniq, counts = np.unique(ids_arr, return_counts=True)
    if len(uniq) != len(ids_arr):
        raise DataError(
            f"{path}: id {_shown(uniq[counts > 1][0])} appears more than once, expected unique ids"
        )
    return ids_arr, np.asarray(labels, dtype=np.int64)


def read_labels(path: str | os.PathLike, ids: np.ndarray) -> np.ndarray:
    """Labels of an `id,label` CSV aligned to `ids`; every id must appear exactly once, no extras."""
    csv_ids, labels = read_labels_table(path)
    ids = np.asarray(ids, dtype=str)
    missing = np.setdiff1d(ids, csv_ids)
    if len(missing):
        raise DataError(
            f"{path}: {len(missing)} ids of the data have no label (first: {_shown(missing[0])})"
        )
    extra = np.setdiff1d(csv_ids, ids)
    if len(extra):
        raise DataError(f"{path}: {len(extra)} ids are not in the data (first: {_shown(extra[0])})")
    order = np.argsort(csv_ids)
    return labels[order[np.searchsorted(csv_ids, ids, sorter=order)]]


def _shown(text) -> str:
    """`text` quoted on one line (repr), cut to a readable length."""
    text = str(text)
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def write_labels(path: str | os.PathLike, ids, labels) -> None:
    """Write an `id,label` CSV atomically (LF line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    ids = np.asarray(ids, dtype=str).tolist()
    labels = np.asarray(labels, dtype=np.int64).tolist()
    writer.writerows(zip(ids, labels, strict=True))
    write_text(path, buf.getvalue())
