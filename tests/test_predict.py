"""`pairzoo predict`: one validated `id,label` row per id, from an ensemble or one model."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from click.testing import CliRunner
from ensemble_fixtures import build_stacked

from pairzoo.cli import main
from pairzoo.data.format import load_split
from pairzoo.ensemble.predict import PredictSettings, check_predictions, predict_proba
from pairzoo.errors import DataError


@pytest.fixture(scope="module")
def stacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    reg, data, run = build_stacked(tmp)
    return reg, data, tmp


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.mark.parametrize("how", [["--ensemble"], ["--ensemble", "stack@1"], ["--model", "tiny1"]])
def test_predict_writes_one_row_per_id(stacked, tmp_path, how):
    reg, data, _ = stacked
    out = tmp_path / "pred.csv"
    args = ["predict", *how, "--data", str(data / "test_public.npz"), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--registry", str(reg.root)])
    assert result.exit_code == 0, result.output
    assert "wrote 200 predictions" in result.output
    header, rows = read_csv(out)
    split = load_split(data / "test_public.npz")
    assert header == ["id", "label"]
    assert [r[0] for r in rows] == split.ids.tolist()
    assert {r[1] for r in rows} <= {"0", "1"}
    kind = {"--ensemble": "ensemble", "--model": "model"}[how[0]]
    proba, card = predict_proba(
        reg, split.x, PredictSettings(**{kind: how[1] if len(how) > 1 else None})
    )
    assert [int(r[1]) for r in rows] == (proba > 0.5).astype(int).tolist()


def test_predict_needs_exactly_one_source(stacked, tmp_path):
    reg, data, _ = stacked
    result = CliRunner().invoke(
        main, ["predict", "--data", str(data / "val.npz"), "--out", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 2 and "exactly one of --ensemble" in result.output


def test_predict_reports_a_missing_entry_in_one_line(stacked, tmp_path):
    reg, data, _ = stacked
    out = tmp_path / "p.csv"
    args = ["predict", "--ensemble", "nope", "--data", str(data / "val.npz"), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--registry", str(reg.root)])
    assert result.exit_code == 1
    assert "no entry named 'nope'" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_predictions_are_checked_before_writing():
    ids = np.array(["a", "b", "c"])
    check_predictions(ids, np.array([0, 1, 1]), ids)
    with pytest.raises(DataError, match="duplicate ids"):
        check_predictions(np.array(["a", "a", "c"]), np.array([0, 1, 1]), ids)
    with pytest.raises(DataError, match="ids differ from the data file's"):
        check_predictions(ids[:2], np.array([0, 1]), ids)
    with pytest.raises(DataError, match="labels must be 0 or 1, found \\[0, 1, 2\\]"):
        check_predictions(ids, np.array([0, 1, 2]), ids)
