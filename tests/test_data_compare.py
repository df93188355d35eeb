"""`pairzoo data compare A B`: the classifier test's verdicts, determinism, files, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pairzoo.cli import main
from pairzoo.data import realism, two_sample
from pairzoo.data.feature_detector import FEATURE_NAMES
from pairzoo.data.format import load_split, save_split
from pairzoo.data.realism_settings import RealismSettings

PAIRS = 60
SIZES = ["--n-train", "2", "--n-val", "2", "--n-private", "2"]


@pytest.fixture(scope="module", autouse=True)
def small_budget():
    """The test's budget pinned, so the verdicts below do not move with its defaults; fewer
    bootstrap resamples and one torch thread keep it fast on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    pinned = RealismSettings(folds=2, repeats=1, epochs=8, curve=())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(realism, "DEFAULT_SETTINGS", pinned)
        mp.setattr(two_sample, "_BOOTSTRAP", 200)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def _make(tmp, name, severity, n):
    out = tmp / name
    args = ["data", "make", "--out", out, "--severity", severity, "--n-public", n, *SIZES]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return load_split(out / "test_public.npz")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two disjoint halves of one severity-6 set, and a clean (severity-0) set."""
    tmp = tmp_path_factory.mktemp("compare")
    heavy = _make(tmp, "heavy", 6, 2 * PAIRS)
    clean = _make(tmp, "clean", 0, PAIRS)
    paths = {}
    for name, split, rows in [
        ("first", heavy, slice(0, PAIRS)),
        ("second", heavy, slice(PAIRS, 2 * PAIRS)),
        ("clean", clean, slice(0, PAIRS)),
    ]:
        paths[name] = tmp / f"{name}.npz"
        save_split(paths[name], split.x[rows], split.ids[rows])
    paths["dir"] = tmp / "heavy"
    return paths


def run(*args):
    return CliRunner().invoke(main, ["data", "compare", *map(str, args)])


def report(*args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def same_json(files):
    """The report on two halves of one set, as --json prints it."""
    result = run(files["first"], files["second"], "--json", "--seed", "1")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_same_distribution_is_near_chance(files, same_json):
    r = json.loads(same_json)
    for t in r["two_sample"].values():
        assert t["n_per_side"] == 2 * PAIRS
        assert 0.38 < t["accuracy"] < 0.62
    assert r["verdict"]["pvalue"] > 0.01
    assert [row["n_per_side"] for row in r["learning_curve"]] == [2 * PAIRS]
    assert r["a"] == {"path": str(files["first"]), "pairs": PAIRS, "images": 2 * PAIRS}
    assert [row["statistic"] for row in r["separating"]][0] == "noise_correlation"
    assert r["seed_summary"][0]["label"] == "fraction of pixels exactly 0"


def test_clean_against_corrupted_is_told_apart(files):
    result = run(files["clean"], files["dir"], "--json", "--seed", "1")
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    assert r["b"]["path"] == str(files["dir"] / "test_public.npz")
    for t in r["two_sample"].values():
        assert t["accuracy"] > 0.9 and t["roc_auc"] > 0.9
    assert r["verdict"]["pvalue"] < 1e-10
    apart = r["what_tells_them_apart"]
    assert apart["detector"] == "features"
    assert apart["rows"][0]["importance"] >= apart["rows"][-1]["importance"]
    assert len(apart["rows"]) == len(FEATURE_NAMES)


def test_out_files_and_same_seed_same_json(files, same_json, tmp_path):
    out = tmp_path / "report"
    result = run(files["first"], files["second"], "--out", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "classifier two-sample test (seed 1, 2-fold cross-fitting, 1 repeats" in result.output
    assert "  features  120 images per side: accuracy" in result.output
    assert "  verdict: " in result.output
    assert "zero blob area / bounding box area" in result.output
    assert "\nwhat tells them apart (features detector: held-out accuracy lost" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["random.png", "report.json", "typical.png"]
    for png in ("random.png", "typical.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A second run with the same seed wrote the very same report that --json printed.
    assert (out / "report.json").read_text() == same_json


def _assert_one_line_error(result, message):
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"


def test_bad_inputs(files, tmp_path):
    missing = tmp_path / "missing.npz"
    _assert_one_line_error(run(missing, files["first"]), f"{missing}: file not found")
    no_x = tmp_path / "no_x.npz"
    np.savez(no_x, id=np.array(["a", "b"]))
    _assert_one_line_error(
        run(files["first"], no_x),
        f"{no_x}: key 'x' is missing, expected keys x, id (and y in labelled splits)",
    )
    shape = tmp_path / "shape.npz"
    np.savez(shape, x=np.zeros((2, 28, 28), np.uint8), id=np.array(["a", "b"]))
    _assert_one_line_error(
        run(shape, files["first"]), f"{shape}: key 'x' has shape (2, 28, 28), expected (N, 28, 56)"
    )
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    _assert_one_line_error(
        run(files["first"], empty_dir), f"{empty_dir / 'test_public.npz'}: file not found"
    )


def test_too_few_pairs(files, tmp_path):
    one = tmp_path / "one.npz"
    save_split(one, load_split(files["first"]).x[:1], ["p0"])
    _assert_one_line_error(
        run(files["first"], one),
        f"{one}: 1 pairs are too few for the classifier two-sample test "
        "(two-sample test needs at least 4 images per side, got 2)",
    )
