"""A pair data set that any working model learns in a few epochs, made from nothing but numpy.

Digit d is drawn as a bright bar of height 2d + 4 at a jittered position over faint noise, and a
pair is labelled by the `greater` rule (1 iff left > right, the two digits differ), or by the
`same` rule (1 iff the digits are equal, half the pairs) for models that cannot tell the order.
The bar's area grows with d, so the label follows from the two images' brightness alone: a
model that cannot reach 90% on it within a few epochs does not learn, whatever its design.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pairzoo.data.format import save_split
from pairzoo.data.meta import write_meta

RULES = ("greater", "same")


def bar_images(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28): digit d as a bar of height 2d + 4 and width 8, jittered, over noise."""
    n = len(digits)
    img = rng.integers(0, 20, size=(n, 28, 28))
    rows, cols = np.arange(28)[None, :, None], np.arange(28)[None, None, :]
    bottom = 26 - rng.integers(0, 2, size=n)[:, None, None]
    left = rng.integers(6, 14, size=n)[:, None, None]
    top = bottom - (2 * digits + 4)[:, None, None]
    bar = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < left + 8)
    return np.where(bar, rng.integers(180, 240, size=(n, 1, 1)), img).astype(np.uint8)


def easy_pairs(rng: np.random.Generator, n: int, rule: str = "greater", images=bar_images):
    """x uint8 (n, 28, 56), labels y (n,) by `rule`, digits (n, 2); `images(rng, digits)` draws
    each side (the tests draw other pictures of the same digits)."""
    left = rng.integers(0, 10, size=n)
    right = (left + rng.integers(1, 10, size=n)) % 10
    if rule == "same":
        right = np.where(rng.random(n) < 0.5, left, right)
        y = left == right
    else:
        y = left > right
    x = np.concatenate([images(rng, left), images(rng, right)], axis=2)
    return x, y.astype(np.int64), np.stack([left, right], 1).astype(np.int64)


def write_easy_data(
    path: str | Path, n_train: int = 2048, n_val: int = 512, seed: int = 0, rule: str = "greater"
) -> Path:
    """A data directory in the pair format (train and val with digits, meta.json)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = {"train": n_train, "val": n_val}
    for split, n in sizes.items():
        x, y, digits = easy_pairs(rng, n, rule)
        ids = np.array([f"{split[:3].upper()}_{i:07d}" for i in range(n)])
        save_split(path / f"{split}.npz", x, ids, y=y, digits=digits)
    source = "easy bars (pairzoo.plugin_check.easy_data)"
    write_meta(path, {"source": source, "seed": seed, "rule": rule, "sizes": sizes})
    return path
