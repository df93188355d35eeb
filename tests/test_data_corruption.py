"""The corruption pipeline: shapes, seeding, the severity knob."""

from __future__ import annotations

import numpy as np
import pytest

from pairzoo.data.corruption import MAX_SEVERITY, corrupt, params_for


def clean_digits(n=64):
    """Synthetic clean digits: a bright ring on an exact-zero background, like MNIST."""
    yy, xx = np.mgrid[:28, :28]
    ring = (np.abs(np.hypot(yy - 13.5, xx - 13.5) - 7) < 1.6).astype(np.uint8) * 255
    return np.repeat(ring[None], n, axis=0)


def test_output_shape_dtype_and_seeding():
    digits = clean_digits()
    a = corrupt(digits, np.random.default_rng(3))
    b = corrupt(digits, np.random.default_rng(3))
    c = corrupt(digits, np.random.default_rng(4))
    assert a.dtype == np.uint8 and a.shape == digits.shape
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.shares_memory(a, digits)


def test_severity_zero_is_clean():
    digits = clean_digits(4)
    assert np.array_equal(corrupt(digits, np.random.default_rng(0), 0), digits)


def test_default_severity_replaces_the_clean_background():
    out = corrupt(clean_digits(500), np.random.default_rng(0))
    zero_fraction = (out == 0).mean()
    assert 0.3 < zero_fraction < 0.55  # clean: about 0.85; zeros now come from occlusion
    background = out[(out > 0) & (out < 40)]
    assert 5 <= np.median(background) <= 12
    assert 120 < np.median(out.max(axis=(1, 2))) < 220  # reduced contrast and blur


def test_effects_grow_with_severity():
    digits = clean_digits(300)
    noise = [
        np.median(corrupt(digits, np.random.default_rng(0), s)[:, :3, :3]) for s in (1, 3, 6, 10)
    ]
    assert noise == sorted(noise) and noise[0] < noise[-1]
    peak = [
        np.median(corrupt(digits, np.random.default_rng(0), s).max(axis=(1, 2))) for s in (1, 6)
    ]
    assert peak[0] > peak[1]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"expected uint8 \(N, 28, 28\)"):
        corrupt(np.zeros((2, 28, 56), np.uint8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="severity 11"):
        params_for(11)
    assert params_for(MAX_SEVERITY).rotation_deg > params_for(6).rotation_deg


def test_rotated_occlusions_and_offset_move_their_statistics():
    import dataclasses

    from pairzoo.data.corruption_params import load_corruption
    from pairzoo.data.separating import separating_values

    base = load_corruption().params
    rotated = dataclasses.replace(
        base,
        rects=tuple(dataclasses.replace(g, angle_deg=45.0) for g in base.rects),
        offset_px=(-2.0, 0.0),
    )
    digits = clean_digits(400)
    plain = separating_values(corrupt(digits, np.random.default_rng(1), 6.0, base))
    moved = separating_values(corrupt(digits, np.random.default_rng(1), 6.0, rotated))
    assert np.median(moved["blob_rectangularity"]) < np.median(plain["blob_rectangularity"]) - 0.1
    assert np.mean(moved["stroke_row"]) < np.mean(plain["stroke_row"]) - 1.0


def test_occlusions_of_several_parts_are_unions_of_rectangles():
    import dataclasses

    from pairzoo.data.corruption_params import RectGroup
    from pairzoo.data.separating import separating_values

    base = params_for(6.0)
    one = RectGroup(minimum=1, extra=(0, 0.0), size=(4, 10), centre=(0.5, 0.5))
    union = dataclasses.replace(one, parts=(3, 1.0), spread=4.0)
    plain_p = dataclasses.replace(base, rects=(one,), line_count=(0, 0.0))
    union_p = dataclasses.replace(base, rects=(union,), line_count=(0, 0.0))
    digits = np.zeros((300, 28, 28), dtype=np.uint8)  # no stroke: every zero blob is an occlusion
    plain_images = corrupt(digits, np.random.default_rng(2), 6.0, plain_p)
    joined_images = corrupt(digits, np.random.default_rng(2), 6.0, union_p)
    plain, joined = separating_values(plain_images), separating_values(joined_images)
    # A single axis-aligned rectangle fills its box; four offset ones seldom do.
    assert np.median(plain["blob_rectangularity"]) == 1.0
    assert np.median(joined["blob_rectangularity"]) < 0.9
    assert (joined_images == 0).mean() > (plain_images == 0).mean()
