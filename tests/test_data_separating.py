"""The separating statistics on images whose answers are known."""

from __future__ import annotations

import numpy as np

from pairzoo.data.separating import LABELS, separating_values, separation


def test_blob_rectangularity_and_specks():
    img = np.full((28, 28), 10, np.uint8)
    img[2:6, 3:9] = 0  # a 4x6 rectangle: rectangularity 1
    img[10:16, 10:16] = 0
    img[10:13, 13:16] = 10  # an L of 36 - 9 = 27 px in a 6x6 box
    img[20, 20] = 0  # two specks of 1 and 3 px
    img[24, 5:8] = 0
    v = separating_values(img[None])
    assert sorted(v["blob_rectangularity"].tolist()) == [27 / 36, 1.0]
    assert v["zero_specks"].tolist() == [2.0]


def test_border_ring_and_stroke_centres():
    img = np.full((2, 28, 28), 10, np.uint8)
    img[0, 0, :] = 0  # one row of the 2-px border ring
    img[0, 10, 12] = 200  # stroke pixels at (10, 12) and (14, 12)
    img[0, 14, 12] = 200
    v = separating_values(img)
    ring = 28 * 28 - 24 * 24
    assert np.allclose(v["border_zero_fraction"], [28 / ring, 0.0])
    # The second image has no stroke pixels: it gives no centre.
    assert v["stroke_row"].tolist() == [12.0] and v["stroke_col"].tolist() == [12.0]


def test_noise_correlation():
    rng = np.random.default_rng(0)
    smooth = np.repeat(rng.integers(1, 30, size=(1, 28, 14)), 2, axis=2)  # pixel pairs equal
    white = rng.integers(1, 30, size=(1, 28, 28))
    flat = np.full((1, 28, 28), 9)  # no variance: no value
    v = separating_values(np.concatenate([smooth, white, flat]).astype(np.uint8))
    smooth_corr, white_corr = v["noise_correlation"]
    assert len(v["noise_correlation"]) == 2
    assert 0.4 < smooth_corr < 0.6  # half the neighbour pairs are equal, half independent
    assert abs(white_corr) < 0.15


def test_separation_rows():
    rng = np.random.default_rng(1)
    a = rng.integers(1, 30, size=(50, 28, 28), dtype=np.uint8)
    a[:, 2:8, 2:8] = 0  # a square blob in every image of a
    b = a.copy()
    b[:, 2:5, 5:8] = 15  # an L in every image of b
    rows = separation(a, a), separation(a, b)
    assert [r["statistic"] for r in rows[0]] == list(LABELS)
    same = {r["statistic"]: r["ks"]["statistic"] for r in rows[0]}
    differ = {r["statistic"]: r["ks"]["statistic"] for r in rows[1]}
    assert same["blob_rectangularity"] == 0.0 and same["noise_correlation"] == 0.0
    assert differ["blob_rectangularity"] == 1.0 and differ["zero_specks"] == 0.0
    assert rows[1][0]["a"]["n"] == 50
