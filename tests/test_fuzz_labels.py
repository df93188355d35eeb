"""Fuzzing the `id,label` CSV reader: any file loads or gives one DataError naming it."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_strategies import csv_files, expect_ok_or, mostly, workdir
from hypothesis import example, given
from hypothesis import strategies as st

from pairzoo.data.labels_csv import read_labels, read_labels_table
from pairzoo.errors import DataError

pytestmark = pytest.mark.fuzz

IDS = ["PUB_0000000", "PUB_0000001", "PUB_0000002"]

newlines = st.sampled_from(["\n", "\r\n", "\r"])


def check_table(path, ids, labels) -> None:
    assert ids.dtype.kind == "U" and labels.dtype == np.int64
    assert ids.shape == labels.shape and len(np.unique(ids)) == len(ids)
    assert set(labels.tolist()) <= {0, 1}


@given(mostly(csv_files(IDS), st.binary(max_size=200).map(lambda b: (b, None))))
@example((b"id,label\n" + b"PUB_0000000," + b"1" * 200_000 + b"\n", None))
@example((b"id,label\n\x00PUB_0000000,1\n", None))
@example((b'id,label\n"PUB_0000000' + b"x" * 200_000, None))
def test_labels_csv_reads_or_is_refused(file):
    data, expected = file
    with workdir() as tmp:
        path = tmp / "test_public_labels.csv"
        path.write_bytes(data)
        with expect_ok_or(DataError, str(path)):
            ids, labels = read_labels_table(path)
            check_table(path, ids, labels)
        with expect_ok_or(DataError, str(path)) as err:
            aligned = read_labels(path, np.array(IDS))
            assert aligned.shape == (len(IDS),) and aligned.dtype == np.int64
        if expected is not None:
            assert not err and aligned.tolist() == [expected[i] for i in IDS]


@given(
    st.permutations(IDS), st.lists(st.sampled_from(["0", "1"]), min_size=3, max_size=3), newlines
)
def test_a_correct_file_gives_the_labels_in_data_order(order, values, newline):
    with workdir() as tmp:
        path = tmp / "labels.csv"
        text = newline.join(["id,label", *(f"{i},{v}" for i, v in zip(order, values, strict=True))])
        path.write_text("\ufeff" + text + newline, encoding="utf-8", newline="")
        aligned = read_labels(path, np.array(IDS))
        by_id = dict(zip(order, values, strict=True))
        assert aligned.tolist() == [int(by_id[i]) for i in IDS]
