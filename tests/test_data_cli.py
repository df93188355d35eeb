"""`pairzoo data ...` through click's CliRunner: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from pairzoo.cli import main

SIZES = ["--n-train", "40", "--n-val", "10", "--n-public", "30", "--n-private", "10"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "data"
    result = CliRunner().invoke(main, ["data", "make", "--out", str(out), "--seed", "3", *SIZES])
    assert result.exit_code == 0, result.output
    assert "wrote 6 files and meta.json" in result.output and "train: 40 pairs" in result.output
    return out


def run(*args):
    return CliRunner().invoke(main, ["data", *map(str, args)])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_check_ok(data_dir):
    result = run("check", data_dir)
    assert result.exit_code == 0, result.output
    assert (
        "ok  train.npz: 40 pairs" in result.output
        and "ok  meta.json: sha256 matches" in result.output
    )
    assert result.output.strip().endswith("valid")
    assert run("check", data_dir / "test_public.npz").exit_code == 0


@pytest.mark.parametrize(
    "content, fragments",
    [
        (b"PK\x03\x04 truncated", ["train.npz", "not a readable .npz archive"]),
        (None, ["train.npz", "key 'y' has label 5 at row 0"]),
    ],
)
def test_check_bad_file(tmp_path, content, fragments):
    path = tmp_path / "train.npz"
    if content is None:
        np.savez(
            path, x=np.zeros((2, 28, 56), np.uint8), y=np.array([5, 0]), id=np.array(["a", "b"])
        )
    else:
        path.write_bytes(content)
    assert_one_line_error(run("check", path), *fragments)


def test_check_bad_labels_csv(tmp_path, data_dir):
    import shutil

    copy = tmp_path / "d"
    shutil.copytree(data_dir, copy)
    (copy / "test_public_labels.csv").write_text("id,lbl\n")
    assert_one_line_error(run("check", copy), "test_public_labels.csv", "expected 'id,label'")


def test_stats_table_and_json(data_dir):
    result = run("stats", data_dir)
    assert result.exit_code == 0, result.output
    assert (
        "60 digit images" in result.output
        and "fraction of pixels exactly 0, median" in result.output
    )
    result = run("stats", data_dir, "--split", "train", "--json")
    report = json.loads(result.output)
    assert report["images"] == 80 and set(report["stats"]) == set(report["original"])
    assert_one_line_error(run("stats", data_dir, "--split", "nope"), "unknown split 'nope'")


def test_show(data_dir, tmp_path):
    out = tmp_path / "grid.png"
    result = run("show", data_dir / "test_public.npz", "--out", out, "--n", "6")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "6 pairs" in result.output


def test_make_errors(tmp_path):
    assert_one_line_error(
        run("make", "--out", tmp_path, "--rule", "bigger", *SIZES), "unknown label rule 'bigger'"
    )
    assert_one_line_error(
        run("make", "--out", tmp_path, "--source", "idx:/nowhere", *SIZES),
        "download the MNIST files",
    )
    result = run("make", "--out", tmp_path, "--severity", "11")
    assert result.exit_code == 2 and "severity" in result.output


def test_make_never_overwrites_data_it_did_not_write(data_dir, tmp_path):
    import shutil

    theirs = shutil.copytree(data_dir, tmp_path / "theirs")
    (theirs / "meta.json").unlink()  # like the original task's files
    before = {p.name: p.read_bytes() for p in theirs.iterdir()}
    assert_one_line_error(
        run("make", "--out", theirs, "--seed", "4", *SIZES),
        "did not write (train.npz, val.npz",
        "--force",
    )
    assert {p.name: p.read_bytes() for p in theirs.iterdir()} == before
    forced = run("make", "--out", theirs, "--seed", "4", "--force", *SIZES)
    assert forced.exit_code == 0, forced.output
    ours = run("make", "--out", theirs, "--seed", "5", *SIZES)  # now it has our meta.json
    assert ours.exit_code == 0, ours.output


def test_data_cmd_imports_nothing_heavy():
    code = "import sys, pairzoo.cli.data_cmd; print(sorted(m for m in ('numpy', 'scipy', 'torch', 'matplotlib') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
