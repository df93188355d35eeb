"""Fuzzing the `id,label` CSV reader: any file loads or gives one DataError naming it."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_strategies import expect_ok_or, texts, workdir
from hypothesis import example, given
from hypothesis import strategies as st

from pairzoo.data.labels_csv import read_labels, read_labels_table
from pairzoo.errors import DataError

pytestmark = pytest.mark.fuzz

IDS = ["PUB_0000000", "PUB_0000001", "PUB_0000002"]

headers = st.sampled_from(
    ["id,label", " id , label ", "ID,LABEL", "label,id", "id", "id,label,extra", "", '"id","label"']
) | texts.filter(lambda t: "\n" not in t and "\r" not in t)
cells = st.sampled_from(IDS) | texts.filter(lambda t: "\n" not in t and "\r" not in t)
labels = st.sampled_from(["0", "1", " 1 ", "01", "+1", "2", "-1", "1.0", "x", "", "١", "1_0"])
labels = labels | st.integers(-(10**6), 10**6).map(str) | st.just("9" * 5000)
rows = st.lists(
    st.lists(cells | labels, min_size=0, max_size=4) | st.tuples(cells, labels).map(list),
    max_size=8,
)
newlines = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_files(draw) -> bytes:
    """An id,label file with its variations: BOM, newline style, NULs, a huge line, encoding."""
    newline = draw(newlines)
    lines = [draw(headers)] + [",".join(row) for row in draw(rows)]
    if draw(st.booleans()):
        lines.insert(
            draw(st.integers(1, len(lines))), "PUB_9," + "1" * draw(st.integers(1, 300_000))
        )
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 3]))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.sampled_from(["\0", '"', "\ufeff", "\x1a", "\u2028"])) + text[at:]
        )
    data = ("\ufeff" if draw(st.booleans()) else "") + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    return data.encode(encoding, errors="replace")


def check_table(path, ids, labels) -> None:
    assert ids.dtype.kind == "U" and labels.dtype == np.int64
    assert ids.shape == labels.shape and len(np.unique(ids)) == len(ids)
    assert set(labels.tolist()) <= {0, 1}


@given(csv_files() | st.binary(max_size=200))
@example(b"id,label\n" + b"PUB_0000000," + b"1" * 200_000 + b"\n")
@example(b"id,label\n\x00PUB_0000000,1\n")
@example(b"\xef\xbb\xbfid,label\r\nPUB_0000000,1\r\n")
@example(b'id,label\n"PUB_0000000' + b"x" * 200_000)
def test_labels_csv_reads_or_is_refused(data):
    with workdir() as tmp:
        path = tmp / "test_public_labels.csv"
        path.write_bytes(data)
        with expect_ok_or(DataError, str(path)):
            ids, labels = read_labels_table(path)
            check_table(path, ids, labels)
        with expect_ok_or(DataError, str(path)):
            aligned = read_labels(path, np.array(IDS))
            assert aligned.shape == (len(IDS),) and aligned.dtype == np.int64


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
