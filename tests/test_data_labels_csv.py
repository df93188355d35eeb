"""`id,label` CSV files: round trip and one clear DataError per defect."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.data.labels_csv import read_labels, read_labels_table, write_labels
from pairzoo.errors import DataError

IDS = np.array(["PUB_0000000", "PUB_0000001", "PUB_0000002"])


def test_round_trip_and_alignment(tmp_path):
    path = tmp_path / "labels.csv"
    write_labels(path, IDS[::-1], [1, 0, 1])
    assert path.read_text() == "id,label\nPUB_0000002,1\nPUB_0000001,0\nPUB_0000000,1\n"
    assert read_labels(path, IDS).tolist() == [1, 0, 1]
    ids, labels = read_labels_table(path)
    assert ids.tolist() == IDS[::-1].tolist() and labels.dtype == np.int64


def test_tolerates_crlf_and_a_bom(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(b"\xef\xbb\xbfid,label\r\nPUB_0000000,0\r\nPUB_0000001,1\r\nPUB_0000002,0\r\n")
    assert read_labels(path, IDS).tolist() == [0, 1, 0]


CASES = {
    "bad header": ("ident,lab\nPUB_0000000,1\n", r"header is 'ident,lab', expected 'id,label'"),
    "empty file": ("", r"header is 'an empty file', expected 'id,label'"),
    "not an integer": (
        "id,label\nPUB_0000000,yes\n",
        r"line 2 has label 'yes', expected an integer 0 or 1",
    ),
    "float label": ("id,label\nPUB_0000000,0.7\n", r"line 2 has label '0.7', expected an integer"),
    "out of range": (
        "id,label\nPUB_0000000,0\nPUB_0000001,2\n",
        r"line 3 has label 2, expected 0 or 1",
    ),
    "field count": ("id,label\nPUB_0000000,1,extra\n", r"line 2 has 3 fields, expected 2"),
    "duplicate id": (
        "id,label\nPUB_0000000,1\nPUB_0000000,0\n",
        r"id 'PUB_0000000' appears more than once",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_csv(tmp_path, case):
    text, message = CASES[case]
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        read_labels_table(path)
    assert str(err.value).startswith(str(path))


def test_missing_ids(tmp_path):
    path = tmp_path / "labels.csv"
    write_labels(path, IDS[:2], [0, 1])
    with pytest.raises(
        DataError, match=r"1 ids of the data have no label \(first: 'PUB_0000002'\)"
    ):
        read_labels(path, IDS)


def test_extra_ids(tmp_path):
    path = tmp_path / "labels.csv"
    write_labels(path, [*IDS, "PUB_9999999"], [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"1 ids are not in the data \(first: 'PUB_9999999'\)"):
        read_labels(path, IDS)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_labels_table(tmp_path / "none.csv")
