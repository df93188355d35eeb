"""The one-file ensemble: merge, parity gate, and running it with no pairzoo importable."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_pairs, register_tiny_models

from pairzoo.cli import main
from pairzoo.data.format import save_split
from pairzoo.ensemble.entry import save_and_register
from pairzoo.ensemble.evaluate import evaluate
from pairzoo.ensemble.export import export_ensemble
from pairzoo.ensemble.members import load_ensemble, load_members, member_refs
from pairzoo.ensemble.settings import ExportSettings
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.registry import Registry


@pytest.fixture(scope="module")
def stacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("onnx_ensemble")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 3)
    x, y, _ = make_pairs(400, seed=1)
    members = load_members(reg, member_refs(reg, None))
    ev = evaluate(members, x, y, params=StackingParams(n_estimators=40))
    card = save_and_register(ev, tmp / "report", reg, "stack")
    return reg, card, x, tmp


def test_single_file_matches_python_path_and_is_written(stacked):
    reg, card, x, tmp = stacked
    out = tmp / "export" / "stack.onnx"
    result = export_ensemble(reg, ExportSettings("stack", out=out), x)
    assert result.parity.ok and result.parity.label_mismatches == 0
    assert result.parity.max_abs_diff <= 1e-5
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["xa", "xb"]
    assert [o.name for o in model.graph.output] == ["probability", "label"]
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    props = {p.key: p.value for p in model.metadata_props}
    assert props["pairzoo_ensemble"] == "stack@1" and "tiny2@1:" in props["pairzoo_members"]


def test_the_file_records_the_session_options_it_was_gated_in(stacked):
    import json

    reg, _, x, tmp = stacked
    out = tmp / "export" / "inter2.onnx"
    result = export_ensemble(reg, ExportSettings("stack", out=out, runtime="ort-inter2"), x)
    assert result.parity.ok and result.runtime["chosen"] == "ort-inter2"
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    record = json.loads(props["pairzoo_runtime"])
    assert record["options"]["inter_op"] == 2 and record["chosen"] == "ort-inter2"
    assert props["pairzoo_ensemble"] == "stack@1"


def export_cli(reg, data, out):
    args = ["export", "--ensemble", "stack", "--registry", reg.root, "--data", data, "--out", out]
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def val_dir(stacked, tmp_path):
    _, _, x, _ = stacked
    ids = np.array([f"VAL_{i:07d}" for i in range(len(x))])
    save_split(tmp_path / "val.npz", x, ids, y=make_pairs(400, seed=1)[1])
    return tmp_path


def test_a_member_wired_to_another_members_feature_is_refused(stacked, val_dir, monkeypatch):
    # A merge that feeds the meta-learner's features from the wrong members (here the first two
    # swapped) gives another ensemble: the parity gate must see it on val and write nothing.
    import pairzoo.ensemble.export as export_module

    merge = export_module.merge_ensemble
    monkeypatch.setattr(
        export_module,
        "merge_ensemble",
        lambda protos, booster, **kw: merge([protos[1], protos[0], *protos[2:]], booster, **kw),
    )
    reg, _, _, tmp = stacked
    out = tmp / "swapped.onnx"
    result = export_cli(reg, val_dir, out)
    assert result.exit_code == 1, result.output
    assert "stack@1: single-file ONNX differs from the Python path on" in result.output
    assert "nothing written" in result.output and not out.exists()
    mismatches = re.search(r"on 400 val pairs: (\d+) label mismatches", result.output)
    assert mismatches and int(mismatches.group(1)) > 0


def test_a_member_file_swapped_after_the_fit_is_refused(stacked, val_dir, tmp_path):
    # Another model's ONNX file put in place of member tiny0 after the meta-learner was fit.
    reg, _, _, _ = stacked
    copy = Registry(shutil.copytree(reg.root, tmp_path / "registry"))
    target = copy.file_path(copy.resolve("tiny0@1"))
    target.write_bytes(copy.file_path(copy.resolve("tiny1@1")).read_bytes())
    out = tmp_path / "stack.onnx"
    result = export_cli(copy, val_dir, out)
    assert result.exit_code == 1, result.output
    assert str(target) in result.output and "sha256" in result.output
    assert "Traceback" not in result.output and not out.exists()


STANDALONE = textwrap.dedent(
    """
    import importlib.util, sys
    sys.path.append(sys.argv[1])  # site-packages, without running its .pth files
    assert importlib.util.find_spec("pairzoo") is None, "pairzoo must not be importable"
    import numpy as np
    import onnxruntime as ort
    data = np.load(sys.argv[3], allow_pickle=False)
    x = data["x"]
    xa = (x[:, None, :, :28] / np.float32(255.0)).astype(np.float32)
    xb = (x[:, None, :, 28:] / np.float32(255.0)).astype(np.float32)
    session = ort.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"])
    probability, label = session.run(["probability", "label"], {"xa": xa, "xb": xb})
    np.savez(sys.argv[4], probability=probability, label=label)
    print("ok", sorted(m for m in sys.modules if m.split(".")[0] == "pairzoo"))
    """
)


def test_single_file_runs_in_plain_onnxruntime_without_pairzoo(stacked):
    reg, _, x, tmp = stacked
    path = tmp / "standalone.onnx"
    export_ensemble(reg, ExportSettings("stack", out=path), x)
    script = tmp / "run_standalone.py"
    script.write_text(STANDALONE)
    np.savez(tmp / "pairs.npz", x=x[:50])
    site = sysconfig.get_paths()["purelib"]
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            str(script),
            site,
            str(path),
            str(tmp / "pairs.npz"),
            str(tmp / "out.npz"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok []"
    got = np.load(tmp / "out.npz")
    loaded = load_ensemble(reg, "stack")
    from pairzoo.ensemble.predict import PredictSettings, predict_proba

    proba, _ = predict_proba(reg, x[:50], PredictSettings(ensemble="stack"))
    np.testing.assert_allclose(got["probability"], proba, atol=1e-5)
    np.testing.assert_array_equal(got["label"], (proba > 0.5).astype(np.int64))
    assert len(loaded.members) == 3


def test_evaluation_is_deterministic(stacked):
    reg, _, x, _ = stacked
    _, y, _ = make_pairs(400, seed=1)
    members = load_members(reg, member_refs(reg, None))
    runs = [evaluate(members, x, y, params=StackingParams(n_estimators=40)) for _ in range(2)]
    for a, b in zip(runs[0].results, runs[1].results, strict=True):
        assert a.name == b.name and a.winner == b.winner
        np.testing.assert_array_equal(a.val_proba, b.val_proba)
    boosters = [r.stacker.final.booster.model_to_string() for r in runs]
    assert boosters[0] == boosters[1]


@pytest.mark.parametrize("trees, domain", [("plain", False), ("ml", True)])
def test_trees_picks_the_meta_learners_operators_from_the_command_line(
    stacked, val_dir, tmp_path, trees, domain
):
    reg, _, _, _ = stacked
    out = tmp_path / f"{trees}.onnx"
    args = ["export", "--ensemble", "stack", "--registry", reg.root, "--data", val_dir]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--out", out, "--trees", trees]])
    assert result.exit_code == 0, result.output
    assert f"trees: {trees}" in result.output and "parity against the Python path" in result.output
    assert (b"ai.onnx.ml" in out.read_bytes()) == domain
