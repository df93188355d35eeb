"""Fuzzing the data loader: any .npz or meta.json from elsewhere loads or gives one DataError."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
from fuzz_strategies import (
    Unpickled,
    csv_files,
    deeply_nested,
    expect_ok_or,
    forge_member_size,
    json_values,
    mutated_split,
    npy_header,
    npz_bytes,
    texts,
    valid_split,
    wild_array,
    workdir,
    zip_members,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pairzoo.data.check import check_path
from pairzoo.data.format import load_data_dir, load_split, save_split
from pairzoo.data.meta import read_meta, sha256_file, verify_meta
from pairzoo.errors import DataError

pytestmark = pytest.mark.fuzz

# An allocation this large while reading a tiny file means a declared size was believed.
ALLOC_LIMIT = 32 << 20


def assert_valid(split, n_keys: dict) -> None:
    """What a caller of load_split relies on once it returned."""
    n = len(split.x)
    assert split.x.dtype == np.uint8 and split.x.shape == (n, 28, 56) and n >= 1
    assert split.ids.dtype.kind == "U" and split.ids.shape == (n,)
    assert len(np.unique(split.ids)) == n
    if split.y is not None:
        assert split.y.dtype == np.int64 and split.y.shape == (n,)
        assert set(np.unique(split.y)) <= {0, 1}
    if split.digits is not None:
        assert split.digits.dtype == np.int64 and split.digits.shape == (n, 2)
        assert split.digits.min() >= 0 and split.digits.max() <= 9


def load_bytes(data: bytes, name: str = "train.npz"):
    """load_split of a file holding `data`: the split, or None after a DataError naming it."""
    with workdir() as tmp:
        path = tmp / name
        path.write_bytes(data)
        with expect_ok_or(DataError, str(path)) as err:
            split = load_split(path)
            assert_valid(split, {})
            return split
        assert err
        return None


@given(mutated_split(), st.booleans())
def test_mutated_split_loads_or_is_refused(arrays, compressed):
    load_bytes(npz_bytes(arrays, compressed))


@given(st.dictionaries(st.sampled_from(["x", "y", "id", "digits", "z"]), wild_array(), max_size=5))
def test_arrays_of_any_dtype_and_shape(arrays):
    load_bytes(npz_bytes(arrays))


@given(valid_split(), st.data())
def test_truncated_archive(arrays, data):
    raw = npz_bytes(arrays, data.draw(st.booleans()))
    cut = data.draw(st.integers(0, len(raw) - 1))
    load_bytes(raw[:cut])


@given(valid_split(), st.data())
def test_corrupted_bytes(arrays, data):
    raw = bytearray(npz_bytes(arrays, data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        width = data.draw(st.integers(1, 16))
        raw[pos : pos + width] = data.draw(st.binary(min_size=width, max_size=width))
    load_bytes(bytes(raw))


@given(st.binary(max_size=300))
@example(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip: no keys at all
def test_random_bytes(raw):
    load_bytes(raw)


@given(valid_split(), st.sampled_from(["x", "id", "y", "digits"]), st.booleans())
def test_member_not_ending_in_npy(arrays, key, huge):
    """A zip member named plain `x` (no .npy) must not stand in for the array x."""
    members = {f"{k}.npy": _npy(v) for k, v in arrays.items()}
    members[key] = npy_header((10**6, 28, 56)) + b"\x00" * 10 if huge else b"not an array"
    tracemalloc.start()
    try:
        load_bytes(zip_members(members))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < ALLOC_LIMIT
    load_bytes(zip_members(members))


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


declared_shapes = st.one_of(
    st.tuples(st.integers(10**5, 10**13), st.just(28), st.just(56)),
    st.tuples(st.integers(10**9, 10**13)),
    st.lists(st.integers(2, 10**4), min_size=1, max_size=6).map(tuple),
    st.lists(st.integers(2, 10**300), min_size=1, max_size=3).map(tuple),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    declared_shapes,
    st.sampled_from(["|u1", "<i8", "<U20", "<f8"]),
    st.sampled_from(["x", "id", "y", "digits"]),
    st.booleans(),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_huge_declared_size_is_refused_before_allocating(shape, descr, key, forge_zip, method):
    """The .npy header claims far more than the file holds; the zip directory may lie too."""
    arrays = {"x": np.zeros((1, 28, 56), np.uint8), "id": np.array(["a"]), "y": np.array([1])}
    members = {f"{k}.npy": _npy(v) for k, v in arrays.items()}
    header = npy_header(shape, descr)
    members[f"{key}.npy"] = header + b"\x01" * 64
    raw = zip_members(members, method)
    declared = int(np.prod(shape, dtype=object)) * np.dtype(descr).itemsize
    if forge_zip and method == zipfile.ZIP_STORED and len(header) + declared < 2**32:
        raw = forge_member_size(raw, len(header) + declared)  # directory agrees with the header
    tracemalloc.start()
    try:
        split = load_bytes(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert split is None or np.prod(shape, dtype=object) <= 10**4
    assert peak < ALLOC_LIMIT, f"reading a tiny file allocated {peak} bytes"


def test_forged_four_gib_member_is_refused_without_allocating(tmp_path):
    """The worst case the 32-bit zip fields allow: header and directory both claim 4 GiB."""
    header = npy_header((2**32 - 1 - 128,))
    assert len(header) == 128
    members = {"x.npy": header + b"\x00" * 64}
    path = tmp_path / "train.npz"
    path.write_bytes(forge_member_size(zip_members(members), 2**32 - 1))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="train.npz"):
            load_split(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < ALLOC_LIMIT


@given(valid_split(), st.sampled_from(["x", "y", "id", "digits", "other"]))
def test_object_arrays_are_refused_without_unpickling(arrays, key):
    with workdir() as tmp:
        marker = tmp / "unpickled"
        arrays = dict(arrays)
        arrays[key] = np.array([Unpickled(str(marker))] * len(arrays["x"]), dtype=object)
        path = tmp / "train.npz"
        path.write_bytes(npz_bytes(arrays))
        with expect_ok_or(DataError, str(path)) as err:
            load_split(path)
        assert key == "other" or err, "an object array was accepted"
        assert not marker.exists(), "loading the file ran pickle"


# ---- data directories: labels merged from the CSV, meta.json ------------------------------

meta_documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "format": json_values,
            "rule": st.one_of(st.sampled_from(["greater", "same"]), json_values),
            "sizes": st.one_of(
                st.dictionaries(st.sampled_from(["train", "val", "x"]), json_values),
                json_values,
            ),
            "files": st.one_of(
                st.dictionaries(
                    st.sampled_from(
                        ["train.npz", "val.npz", "nope.npz", "../train.npz", "/etc/hostname", ""]
                    )
                    | texts,
                    st.sampled_from(["0" * 64, "HASH"]) | json_values,
                ),
                json_values,
            ),
        },
    ),
)


@given(st.one_of(meta_documents.map(json.dumps), texts, st.binary().map(repr)), st.booleans())
@example(deeply_nested(100_000), False)
@example('{"format": 1, "n": ' + "9" * 5000 + "}", False)
def test_meta_json(text, true_hashes):
    with workdir() as tmp:
        data = tmp / "data"
        data.mkdir()
        save_split(data / "train.npz", np.zeros((2, 28, 56), np.uint8), ["a", "b"], y=[0, 1])
        save_split(data / "val.npz", np.zeros((1, 28, 56), np.uint8), ["c"], y=[1])
        doc = _json_or_none(text) if true_hashes else None
        if isinstance(doc, dict):
            if isinstance(doc.get("files"), dict):
                doc["files"] = {
                    k: sha256_file(data / k) if k in ("train.npz", "val.npz") else v
                    for k, v in doc["files"].items()
                }
                text = json.dumps(doc)
        (data / "meta.json").write_text(text, encoding="utf-8")
        with expect_ok_or(DataError, str(data / "meta.json")) as err:
            meta = read_meta(data)
            assert isinstance(meta, dict)
        if not err:
            with expect_ok_or(DataError, str(data)):  # meta.json, or the file whose hash differs
                for name in verify_meta(data, meta):
                    assert (data / name).resolve().parent == data.resolve()
        with expect_ok_or(DataError, str(data)):
            check_path(data)


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@given(valid_split(labelled=False), st.data())
def test_test_public_with_any_labels_csv(arrays, data):
    """test_public.npz takes its labels from the CSV beside it, whatever that CSV holds."""
    ids = [str(i) for i in arrays["id"]]
    raw, expected = data.draw(csv_files(ids))
    with workdir() as tmp:
        (tmp / "test_public.npz").write_bytes(npz_bytes(arrays))
        (tmp / "test_public_labels.csv").write_bytes(raw)
        with expect_ok_or(DataError, str(tmp)) as err:
            split = load_data_dir(tmp, "test_public")
            assert split.y is not None and split.y.shape == (len(ids),)
        if expected is not None:
            assert not err and split.y.tolist() == [expected[i] for i in ids]
