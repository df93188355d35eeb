"""The one-file ensemble: merge, parity gate, and running it with no pairzoo importable."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap

import numpy as np
import onnx
import pytest
from ensemble_fixtures import make_pairs, register_tiny_models

from pairzoo.ensemble.entry import save_and_register
from pairzoo.ensemble.evaluate import evaluate
from pairzoo.ensemble.export import export_ensemble
from pairzoo.ensemble.members import load_ensemble, load_members, member_refs
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.errors import ExportError
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
    result = export_ensemble(reg, "stack", x, out=out)
    assert result.parity.ok and result.parity.label_mismatches == 0
    assert result.parity.max_abs_diff <= 1e-5
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["xa", "xb"]
    assert [o.name for o in model.graph.output] == ["probability", "label"]
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    props = {p.key: p.value for p in model.metadata_props}
    assert props["pairzoo_ensemble"] == "stack@1" and "tiny2@1:" in props["pairzoo_members"]


def test_parity_failure_writes_nothing(stacked):
    reg, _, x, tmp = stacked
    out = tmp / "refused.onnx"
    with pytest.raises(
        ExportError, match=r"label mismatches, max \|probability difference\|.*nothing written"
    ):
        export_ensemble(reg, "stack", x, out=out, tolerance=-1.0)
    assert not out.exists()


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
    export_ensemble(reg, "stack", x, out=path)
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
    from pairzoo.ensemble.predict import predict_proba

    proba, _ = predict_proba(reg, x[:50], ensemble="stack")
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
