"""Tiny synthetic pair data and helpers for the trainer tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from pairzoo.data.meta import write_meta
from pairzoo.plugin_check.easy_data import easy_pairs

PLUGINS_DIR = Path(__file__).parent / "fixtures" / "train_plugins"


def digit_images(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28): digit d drawn as a bright bar of height 2d + 4, plus noise."""
    n = len(digits)
    img = rng.integers(0, 20, size=(n, 28, 28)).astype(np.int64)
    rows = np.arange(28)[None, :, None]
    cols = np.arange(28)[None, None, :]
    top = 26 - (2 * digits + 4)[:, None, None]
    bar = (rows >= top) & (rows < 26) & (cols >= 10) & (cols < 18)
    img = np.where(bar, 200, img)
    return img.astype(np.uint8)


def template_images(rng: np.random.Generator, digits: np.ndarray, seed: int = 1234) -> np.ndarray:
    """uint8 (N, 28, 28): digit d as its own fixed random pattern of 4x4-pixel cells, plus noise.

    Unlike the bars, nothing in a pattern orders the digits, so an untrained network is near
    chance on the `greater` rule and only learning the ten patterns beats it."""
    cells = np.random.default_rng(seed).random((10, 7, 7)) < 0.5
    patterns = np.kron(cells, np.ones((4, 4), dtype=bool))
    noise = rng.integers(0, 40, size=(len(digits), 28, 28))
    return np.where(patterns[digits], 200, noise).astype(np.uint8)


def make_pairs(rng, n, rule="greater", images=None):
    return easy_pairs(rng, n, rule, images or digit_images)


def make_data(
    path: Path,
    n_train=256,
    n_val=128,
    n_test=64,
    seed=0,
    rule="greater",
    digits=True,
    images=None,
    hashed=False,
    **meta,
) -> Path:
    """A data directory in the pair format: train/val (with digits), test_public + labels CSV;
    meta.json hashes the files if `hashed`, and holds any further `meta` keys."""
    from pairzoo.data.format import save_split

    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = {"train": n_train, "val": n_val, "test_public": n_test}
    for split, n in sizes.items():
        x, y, d = make_pairs(rng, n, rule, images)
        ids = np.array([f"{split[:3].upper()}_{i:07d}" for i in range(n)])
        if split == "test_public":
            save_split(path / f"{split}.npz", x, ids)
            rows = "".join(f"{i},{label}\n" for i, label in zip(ids, y, strict=True))
            (path / "test_public_labels.csv").write_text("id,label\n" + rows)
        else:
            save_split(path / f"{split}.npz", x, ids, y=y, digits=d if digits else None)
    drawn = {"source": "synthetic-test", "seed": seed, "rule": rule, "sizes": sizes, **meta}
    write_meta(path, drawn, hashed)
    return path


def tiny_config(data: Path, **train) -> dict:
    """A config for the fixture architecture: a few batches per epoch, one epoch by default."""
    return {
        "arch": "tinypair",
        "loss": "tinybce",
        "data": str(data),
        "seed": 7,
        "train": {"epochs": 1, "batch_size": 32, "lr": 1e-2, "threads": 1, **train},
    }


@contextlib.contextmanager
def fixture_plugins():
    """The fixture plugins loaded for a while; the plugin catalog is reset afterwards."""
    from pairzoo.plugins import load_plugins

    load_plugins(PLUGINS_DIR)
    try:
        yield PLUGINS_DIR
    finally:
        load_plugins(None)
