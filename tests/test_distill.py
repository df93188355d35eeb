"""`pairzoo distill`: teacher logits, training, registration with the teacher, report, refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_data_dir, make_pairs, tiny_torch_onnx
from export_fixtures import EXPORT_PLUGINS

from pairzoo.cli import main
from pairzoo.errors import DataError, RunError

N_TRAIN = 600


def _registry_with_ensemble(tmp: Path):
    """Three tiny members that record the `greater` rule, stacked into ensemble 'stack'."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    reg = Registry(tmp / "registry")
    for i in range(3):
        card = {
            "onnx": "model.onnx",
            "macs_per_pair": 2000 + i,
            "label_rule": {"name": "greater"},
            "metrics": {"val": None, "test_public": None},
        }
        reg.add_entry(
            f"tiny{i}", "model", {"model.onnx": tiny_torch_onnx(tmp / f"t{i}.onnx", i)}, card
        )
    data = _data_dir(tmp / "data")
    run_ensemble_eval(
        reg,
        EvalSettings(data, tmp / "report", params=StackingParams(n_estimators=20), name="stack"),
    )
    return reg, data


def _data_dir(path: Path, rule: str = "greater") -> Path:
    from pairzoo.data.format import save_split

    make_data_dir(path)
    x, y, _ = make_pairs(N_TRAIN, seed=13)
    save_split(path / "train.npz", x, np.array([f"TRN_{i:07d}" for i in range(N_TRAIN)]), y=y)
    (path / "meta.json").write_text(json.dumps({"format": 1, "rule": rule}))
    return path


def _args(reg, data, out, *extra) -> list[str]:
    return [
        "distill", "--ensemble", "stack", "--registry", str(reg.root), "--data", str(data),
        "--out", str(out), "--arch", "exp_tiny", "--plugins-dir", str(EXPORT_PLUGINS),
        "--epochs", "2", "--batch-size", "32", "--lr", "0.01", "--no-augment", "--patience", "0",
        "--threads", "1", "--device", "cpu", "--no-progress", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """The registry, the data and one finished `pairzoo distill` run registered as 'student'."""
    from pairzoo.plugins import load_plugins

    tmp = tmp_path_factory.mktemp("distill")
    reg, data = _registry_with_ensemble(tmp)
    out = tmp / "runs" / "student"
    extra = ("--loss-param", "temperature=2", "--loss-param", "alpha=0.5")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pairzoo.distill.teacher._CHUNK", 256)  # three chunks, the last one short
        result = CliRunner().invoke(main, _args(reg, data, out, *extra))
    try:
        assert result.exit_code == 0, result.output
        yield reg, data, out, result.output
    finally:
        load_plugins(None)


def test_teacher_logits_are_the_ensembles_logits_of_the_train_pairs(distilled):
    from pairzoo.data.format import load_data_dir
    from pairzoo.distill.teacher import proba_to_logit
    from pairzoo.ensemble.predict import PredictSettings, predict_proba
    from pairzoo.registry.card import sha256_file

    reg, data, out, _ = distilled
    saved = np.load(out / "teacher_logits.npy", allow_pickle=False)
    proba, card = predict_proba(
        reg, load_data_dir(data, "train").x, PredictSettings(ensemble="stack")
    )
    assert saved.dtype == np.float32 and saved.shape == (N_TRAIN,)
    np.testing.assert_allclose(saved, proba_to_logit(proba), rtol=1e-6, atol=1e-6)
    assert np.array_equal(saved > 0, proba > 0.5)
    record = json.loads((out / "teacher.json").read_text())
    assert record["ensemble"] == "stack@1" and record["version"] == card["version"]
    assert record["n"] == N_TRAIN and record["sha256"] == sha256_file(out / "teacher_logits.npy")


def test_probabilities_of_0_and_1_give_finite_logits():
    from pairzoo.distill.teacher import proba_to_logit

    logits = proba_to_logit(np.array([0.0, 0.5, 1.0]))
    assert np.isfinite(logits).all() and logits[0] < -10 and logits[1] == 0 and logits[2] > 10


def test_student_is_registered_with_its_teacher_in_the_card(distilled):
    reg, _, out, output = distilled
    card = reg.resolve("student")
    teacher = json.loads((out / "teacher.json").read_text())
    assert card["kind"] == "model" and "registered student@1" in output
    assert card["teacher"]["ensemble"] == "stack@1"
    assert card["teacher"]["sha256"] == teacher["sha256"]
    assert card["teacher"]["loss_params"]["temperature"] == 2.0
    assert card["loss"]["name"] == "distill" and card["config"]["loss_params"]["alpha"] == 0.5


def test_report_compares_student_ensemble_and_best_single_consistently(distilled):
    from pairzoo.data.format import load_data_dir
    from pairzoo.ensemble.predict import PredictSettings, predict_proba
    from pairzoo.metrics import accuracy

    reg, data, out, output = distilled
    report = json.loads((out / "distill_report.json").read_text())
    val = load_data_dir(data, "val")
    assert report["accuracy"]["val"]["ensemble"] == accuracy(
        val.y, predict_proba(reg, val.x, PredictSettings(ensemble="stack"))[0]
    )
    for split in ("val", "test_public"):
        a, members = report["accuracy"][split], report["members_accuracy"][split]
        assert a["best_single"] == members[report["best_single"]["ref"]]
        margin = a["ensemble"] - a["best_single"]
        expected = (a["student"] - a["best_single"]) / margin if margin > 0 else None
        assert a["gain_kept"] == pytest.approx(expected)
    assert report["accuracy"]["val"]["best_single"] == max(
        report["members_accuracy"]["val"].values()
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert report["accuracy"]["val"]["student"] == pytest.approx(
        metrics["val"]["accuracy"], abs=0.01
    )
    cost = report["cost"]
    assert cost["ensemble_macs_per_pair"] == 2000 + 2001 + 2002
    assert cost["student_macs_per_pair"] == reg.resolve("student")["macs_per_pair"]
    speed = cost["speed"]
    assert speed["pairs"] == 400 and speed["threads"] == 1
    assert speed["student_pairs_per_s"] > 0 and speed["ensemble_pairs_per_s"] > 0
    assert "gain kept" in output and "pairs/s" in output


def test_gain_kept_is_none_when_the_ensemble_does_not_beat_the_best_single_model():
    from pairzoo.distill.report import gain_kept

    assert gain_kept(0.86, 0.88, 0.85) == pytest.approx(1 / 3)
    assert gain_kept(0.86, 0.85, 0.85) is None and gain_kept(0.86, 0.84, 0.85) is None


def test_resume_reuses_the_saved_teacher_and_the_registered_student(distilled, tmp_path):
    reg, data, out, _ = distilled
    copy = tmp_path / "student"
    shutil.copytree(out, copy)
    before = (copy / "teacher.json").read_text()
    result = CliRunner().invoke(main, _args(reg, data, copy, "--resume", "--name", "student"))
    assert result.exit_code == 0, result.output
    assert "already registered as student@1" in result.output
    assert (copy / "teacher.json").read_text() == before
    assert [c["version"] for c in reg.list(kind="model") if c["name"] == "student"] == [1]


def test_resume_refuses_a_changed_teacher_logits_file(distilled, tmp_path):
    reg, data, out, _ = distilled
    copy = tmp_path / "student"
    shutil.copytree(out, copy)
    logits = np.load(copy / "teacher_logits.npy", allow_pickle=False)
    logits[0] += 1.0
    np.save(copy / "teacher_logits.npy", logits, allow_pickle=False)
    result = CliRunner().invoke(main, _args(reg, data, copy, "--resume"))
    assert result.exit_code == 1
    assert "teacher_logits.npy: sha256" in result.output and "teacher.json" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_resume_refuses_another_ensemble(distilled):
    from pairzoo.distill.teacher import load_teacher

    reg, _, out, _ = distilled
    other = {**reg.resolve("stack"), "version": 2}
    with pytest.raises(RunError, match="learned from stack@1.*--ensemble gives stack@2"):
        load_teacher(out, other, N_TRAIN, None)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--ensemble": "nosuch"}, "nosuch"),
        ({"--ensemble": "tiny0"}, "kind 'model', expected an ensemble"),
        ({"--arch": "nosuch_arch"}, "nosuch_arch"),
        ({"--loss-param": "alpha=2"}, "alpha must be in [0, 1]"),
        ({"--data": "same-rule"}, "label rule 'same' (meta.json), but ensemble stack@1"),
        ({"--data": "wide-images"}, "expected (N, 28, 56)"),
    ],
)
def test_clear_one_line_errors(distilled, tmp_path, change, message):
    reg, data, _, _ = distilled
    if change.get("--data") == "same-rule":
        change = {"--data": str(_rule_copy(data, tmp_path / "same", "same"))}
    elif change.get("--data") == "wide-images":
        change = {"--data": str(_wide_copy(data, tmp_path / "wide"))}
    args = _args(reg, data, tmp_path / "run")
    for option, value in change.items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "teacher_logits.npy").exists()


def _rule_copy(data: Path, path: Path, rule: str) -> Path:
    shutil.copytree(data, path)
    (path / "meta.json").write_text(json.dumps({"format": 1, "rule": rule}))
    return path


def _wide_copy(data: Path, path: Path) -> Path:
    shutil.copytree(data, path)
    with np.load(path / "train.npz", allow_pickle=False) as z:
        arrays = dict(z)
    arrays["x"] = np.zeros((N_TRAIN, 32, 64), np.uint8)
    np.savez(path / "train.npz", **arrays)
    return path


def test_an_ensemble_taking_other_images_is_refused():
    from pairzoo.distill.compat import check_image_shape

    inputs = [
        ["xa", "tensor(float)", [None, 1, 32, 32]],
        ["xb", "tensor(float)", [None, 1, 32, 32]],
    ]
    with pytest.raises(DataError, match="takes input 'xa' of shape"):
        check_image_shape("e@1", inputs, (28, 56), "data")
    check_image_shape("e@1", [["xa", "tensor(float)", [None, 1, None, 28]]], (28, 56), "data")


def test_no_register_reports_through_a_temporary_onnx_export(distilled, tmp_path):
    reg, data, _, _ = distilled
    before = [(c["name"], c["version"]) for c in reg.list()]
    out = tmp_path / "unregistered"
    result = CliRunner().invoke(main, _args(reg, data, out, "--no-register", "--json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["student"]["ref"] == "unregistered" and report["accuracy"]["val"]["pairs"] == 400
    assert report == json.loads((out / "distill_report.json").read_text())
    assert [(c["name"], c["version"]) for c in reg.list()] == before


def test_with_a_subset_only_its_pairs_go_through_the_ensemble(distilled, tmp_path):
    from pairzoo.data.format import load_data_dir
    from pairzoo.distill.teacher import proba_to_logit
    from pairzoo.ensemble.predict import PredictSettings, predict_proba
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.train.session import train_subset

    reg, data, _, _ = distilled
    out = tmp_path / "sub"
    sub = ("--subset", "200", "--subset-mode", "random", "--seed", "3", "--no-register")
    result = CliRunner().invoke(main, _args(reg, data, out, *sub, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    cfg = json.loads((out / "config.json").read_text())
    idx = train_subset(RunConfig.from_dict(cfg), N_TRAIN)
    saved = np.load(out / "teacher_logits.npy", allow_pickle=False)
    proba, _ = predict_proba(
        reg, load_data_dir(data, "train").x[idx], PredictSettings(ensemble="stack")
    )
    np.testing.assert_allclose(saved[idx], proba_to_logit(proba), rtol=1e-6, atol=1e-6)
    rest = np.ones(N_TRAIN, bool)
    rest[idx] = False
    assert not saved[rest].any()  # never read by the run
    record = json.loads((out / "teacher.json").read_text())
    assert record["computed"] == 200
    assert record["subset"] == {"size": 200, "mode": "random", "seed": 3}
    other = ("--subset", "300", "--subset-mode", "random", "--seed", "3", "--no-register")
    again = CliRunner().invoke(main, _args(reg, data, out, *other, "--epochs", "1", "--resume"))
    assert again.exit_code == 1 and "computed for train subset" in again.output


TEACHER_LOSS = """
from torch import nn
from pairzoo.hookspecs import hookimpl

class Soft(nn.Module):
    needs_teacher = True

    def forward(self, logits, targets, teacher_logits=None):
        return ((logits - teacher_logits) ** 2).mean()

@hookimpl
def register_losses(register):
    register("soft2", Soft)
"""


def test_the_loss_is_chosen_by_needs_teacher_not_by_name(tmp_path, monkeypatch):
    from pairzoo.catalog import Catalog
    from pairzoo.distill.run import distill_config, teacher_loss
    from pairzoo.errors import PluginError
    from pairzoo.plugins import load_plugins

    (tmp_path / "soft2.py").write_text(TEACHER_LOSS)
    try:
        load_plugins(tmp_path)
        kept = distill_config({"loss": "soft2", "loss_params": {}}, {})
        assert kept["loss"] == "soft2" and kept["loss_params"] == {}
        swapped = distill_config({"loss": "focal", "loss_params": {"gamma": 1.0}}, {})
        assert swapped["loss"] == "distill" and "loss_params" not in swapped
        assert teacher_loss() == "distill"  # the first registered: the builtin
        with monkeypatch.context() as m:
            m.setattr("pairzoo.plugins._catalog", Catalog())
            with pytest.raises(PluginError, match="no registered loss learns from a teacher"):
                teacher_loss("soft2")
    finally:
        load_plugins(None)
