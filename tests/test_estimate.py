"""`pairzoo estimate` on a tiny ensemble: the interval holds on a held-out shift, easy pairs read
near 100%, noise near 50%, labels in the file stay unread, the card keeps the calibration, and
bad input gets one line."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_data_dir, make_pairs, register_tiny_models

from pairzoo.cli import main
from pairzoo.data.format import save_split
from pairzoo.estimate.entry import Calibration, estimate_pairs, open_entry
from pairzoo.estimate.on_register import card_calibrator
from pairzoo.estimate.record import calibration_record
from pairzoo.estimate.shifts import LabelledSet

# the fixture models' own "generator": brightness pairs further from or nearer to the boundary
SHIFTS = {"gap-0": 0, "gap-4": 4, "gap-10": 10, "gap-20": 20, "gap-40": 40}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A three-model ensemble registered with a small generator calibration on its card, and a
    calibration on the fixture's own shifts: (registry, runner, calibration, tmp)."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    tmp = tmp_path_factory.mktemp("estimate")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 3)
    data = make_data_dir(tmp / "data")
    params = StackingParams(n_estimators=30)
    wanted = EvalSettings(data, tmp / "report", params=params, name="stack")
    run_ensemble_eval(reg, wanted, card_calibrator(data, 40, wanted.batch_size, wanted.threads))
    runner = open_entry(reg)
    sets = [LabelledSet(k, *make_pairs(600, seed=20 + i, noise=0.05, gap=v)[:2])
            for i, (k, v) in enumerate(SHIFTS.items())]  # fmt: skip
    settings = {"pairs": 600, "seed": 20, "shifts": [{"name": k} for k in SHIFTS]}
    return reg, runner, Calibration(calibration_record(runner, sets, settings), False), tmp


def _rows(tiny, x):
    _, runner, calibration, _ = tiny
    return {row["predictor"]: row for row in estimate_pairs(runner, calibration, x)}


def test_held_out_shift_falls_inside_the_interval(tiny):
    x, y, _ = make_pairs(600, seed=40, noise=0.05, gap=7)  # a shift no calibration set has
    logits = tiny[1](x)
    rows = _rows(tiny, x)
    assert set(rows) == {"tiny0@1", "tiny1@1", "tiny2@1", "ensemble"}
    for j, name in enumerate(logits.names):
        truth = float(((logits.logits[:, j] > 0) == (y == 1)).mean())
        assert rows[name]["low"] <= truth <= rows[name]["high"], (name, truth, rows[name])
        assert rows[name]["high"] - rows[name]["low"] < 0.3


def _members(signal: float, n: int = 2000, seed: int = 0):
    """Three members whose logits are `signal` towards the truth plus their own noise, and the
    ensemble their scaled mean: Outputs and labels of one set."""
    from pairzoo.estimate.outputs import ensemble_outputs

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    logits = signal * (2 * y[:, None] - 1) + rng.normal(0, 1, (n, 3))
    proba = 1 / (1 + np.exp(-1.5 * logits.mean(axis=1)))
    return ensemble_outputs(["a@1", "b@1", "c@1"], logits, proba), y


@pytest.fixture(scope="module")
def synthetic():
    from pairzoo.estimate.calibration import calibrate

    sets = {s: _members(s, seed=i) for i, s in enumerate((0.1, 0.3, 0.6, 1.0, 1.6, 2.5))}
    scores = {s: out.scores(y) for s, (out, y) in sets.items()}
    return {name: calibrate({s: sc[name] for s, sc in scores.items()}) for name in scores[0.1]}


@pytest.mark.parametrize(("signal", "truth", "within"), [(6.0, 1.0, 0.03), (0.0, 0.5, 0.2)])
def test_known_pairs_read_near_100_and_noise_near_50(synthetic, signal, truth, within):
    out, _ = _members(signal, seed=9)
    for name, scores in out.scores().items():
        row = synthetic[name].estimate(scores)
        assert abs(row["accuracy"] - truth) <= within, (name, row)


def test_synthetic_held_out_shift_falls_inside_the_interval(synthetic):
    out, y = _members(0.8, seed=10)
    for name, scores in out.scores(y).items():
        row = synthetic[name].estimate(scores)
        assert row["low"] <= scores.accuracy <= row["high"], (name, scores.accuracy, row)


def test_card_keeps_the_calibration_and_labels_stay_unread(tiny):
    reg, _, _, tmp = tiny
    card = reg.resolve("stack")
    record = card["estimate"]
    assert record["generator"]["pairs"] == 40 and len(record["generator"]["fingerprint"]) == 64
    assert {r["method"] for r in record["predictors"].values()} <= {
        "confidence", "doc", "atc", "agreement"}  # fmt: skip
    x, _, ids = make_pairs(200, seed=42)
    save_split(tmp / "plain.npz", x, ids)
    save_split(tmp / "labelled.npz", x, ids, y=np.zeros(200, dtype=np.int64))  # wrong labels
    args = ["estimate", "--ensemble", "--registry", str(reg.root), "--json", "--data"]
    runner = CliRunner()
    plain = runner.invoke(main, [*args, str(tmp / "plain.npz")])
    labelled = runner.invoke(main, [*args, str(tmp / "labelled.npz")])
    assert plain.exit_code == 0 and labelled.exit_code == 0, plain.output + labelled.output
    a, b = json.loads(plain.output), json.loads(labelled.output)
    assert a["calibration"] == "from the card"
    assert a["files"][0]["estimates"] == b["files"][0]["estimates"]


def test_the_card_can_be_set_aside_for_a_calibration_made_now(tiny):
    from pairzoo.estimate.entry import entry_calibration

    reg, runner, _, tmp = tiny
    assert entry_calibration(runner, tmp / "data").from_card
    fresh = entry_calibration(runner, tmp / "data", pairs=30, use_card=False)
    assert not fresh.from_card and fresh.record["generator"]["pairs"] == 30
    assert (
        fresh.record["generator"]["pairs"] != reg.resolve("stack")["estimate"]["generator"]["pairs"]
    )


def test_a_model_without_calibration_is_calibrated_the_same_way_again(tiny):
    reg, _, _, tmp = tiny
    x, _, ids = make_pairs(100, seed=43)
    save_split(tmp / "model.npz", x, ids)
    args = ["estimate", "--model", "tiny0", "--registry", str(reg.root), "--pairs", "40",
            "--json", "--data", str(tmp / "model.npz")]  # fmt: skip
    first, again = (CliRunner().invoke(main, args) for _ in range(2))
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["calibration"] == "made now"
    assert out["generator"]["fingerprint"] == reg.resolve("stack")["estimate"]["generator"][
        "fingerprint"]  # fmt: skip
    assert first.output == again.output


def test_bad_input_gets_one_line(tiny):
    reg, _, _, tmp = tiny
    np.savez(tmp / "bad.npz", id=np.array(["a"]))
    result = CliRunner().invoke(main, ["estimate", "--ensemble", "--registry", str(reg.root),
                                       "--data", str(tmp / "bad.npz")])  # fmt: skip
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [f"Error: {tmp / 'bad.npz'}: key 'x' is missing, expected keys x, id"]


def test_predict_adds_the_estimate_to_its_summary(tiny):
    reg, runner, _, tmp = tiny
    x, _, ids = make_pairs(100, seed=44)
    save_split(tmp / "predict.npz", x, ids)
    common = ["--registry", str(reg.root), "--data", str(tmp / "predict.npz")]
    args = ["predict", "--ensemble", *common, "--out", str(tmp / "p.csv"), "--estimate"]
    shown = CliRunner().invoke(main, [*args, "--json"])
    assert shown.exit_code == 0, shown.output
    alone = CliRunner().invoke(main, ["estimate", "--ensemble", *common, "--json"])
    rows = json.loads(alone.output)["files"][0]["estimates"]
    assert json.loads(shown.output)["estimate"] == rows[-1] and rows[-1]["predictor"] == "ensemble"
    line = CliRunner().invoke(main, args).output
    assert f"estimated accuracy {100 * rows[-1]['accuracy']:.2f}%" in line
