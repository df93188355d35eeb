"""Per-image statistics by the original's definitions, on images whose answers are known."""

from __future__ import annotations

import numpy as np

from pairzoo.data.stats import ORIGINAL, compare, digit_images, image_stats


def test_known_images():
    a = np.full((28, 28), 10, np.uint8)
    a[0:5, 0:5] = 0  # a 25 px blob
    a[10:13, 10:13] = 0  # 9 px: too small to count as a blob
    a[20:24, 20:24] = 0  # 16 px
    a[24:28, 24:28] = 0  # 16 px touching the previous one only at a corner: separate (4-connected)
    a[15, 15] = 200
    b = np.full((28, 28), 30, np.uint8)  # no zeros at all
    s = image_stats(np.stack([a, b]))
    zeros_a = 25 + 9 + 16 + 16
    assert s["zero_fraction"]["mean"] == zeros_a / 784 / 2
    assert s["zero_blobs_per_image"]["mean"] == 1.5  # 3 blobs in a, none in b
    assert s["zero_blob_size"]["median"] == 16
    assert s["max_intensity"]["p90"] > 30
    assert np.isclose(s["pixel_value"]["mean"], np.concatenate([a, b]).mean())


def test_blobs_never_join_across_images():
    imgs = np.full((2, 28, 28), 5, np.uint8)
    imgs[0, 27, :] = 0  # bottom row of the first image
    imgs[1, 0, :] = 0  # top row of the second
    s = image_stats(imgs)
    assert s["zero_blob_size"]["median"] == 28 and s["zero_blobs_per_image"]["mean"] == 1


def test_digit_images_and_compare():
    x = np.zeros((3, 28, 56), np.uint8)
    x[:, :, 28:] = 7
    imgs = digit_images(x)
    assert imgs.shape == (6, 28, 28) and imgs[3:].min() == 7 and imgs[:3].max() == 0
    rows = compare(ORIGINAL)
    assert len(rows) == 13 and all(rel == 0 for *_, rel in rows)
