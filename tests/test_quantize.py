"""int8 variants: static QDQ quantization gated on val accuracy, usable as ensemble members."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from ensemble_fixtures import make_data_dir, make_pairs, register_tiny_models

from pairzoo.data.format import save_split
from pairzoo.ensemble.export import export_ensemble
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.errors import ExportError
from pairzoo.exporting.quantize import quantize_entry
from pairzoo.registry import Registry


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quantize")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 2)
    data = make_data_dir(tmp / "data", n_val=300, n_test=100)
    x, y, _ = make_pairs(300, seed=5)
    save_split(data / "train.npz", x, np.array([f"T{i}" for i in range(300)]), y=y)
    return reg, data, tmp


def test_int8_variant_is_registered_with_its_figures(setup):
    reg, data, _ = setup
    card = quantize_entry(reg, "tiny0", data, calibration=128, max_drop=0.03)
    assert card["name"] == "tiny0-int8" and card["kind"] == "model"
    q = card["quantization"]
    assert q["from"] == "tiny0@1" and q["format"] == "QDQ"
    assert q["calibration"] == {
        "split": "train",
        "pairs": 128,
        "method": "Percentile",
        "percentile": 99.99,
    }
    assert q["val_accuracy"]["drop_points"] <= 3.0  # 300 val pairs: one pair is 0.33 points
    assert card["metrics"]["val"]["accuracy"] == q["val_accuracy"]["int8"]
    assert q["batch_sequence"] == {"sizes": [1, 7, 512, 1024, 300], "tolerance": 1e-4}
    ops = {n.op_type for n in onnx.load(str(reg.file_path(card))).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_int8_variant_below_the_gate_is_refused(setup):
    reg, data, _ = setup
    with pytest.raises(
        ExportError,
        match=r"int8 variant refused, nothing registered: val accuracy fp32 .*%, int8 .*% \(drop .* points, allowed -100.00\)",
    ):
        quantize_entry(reg, "tiny1", data, name="refused", calibration=64, max_drop=-1.0)
    assert not [c for c in reg.list() if c["name"] == "refused"]


def test_int8_variant_that_differs_across_batch_sizes_is_refused(setup, monkeypatch):
    import pairzoo.exporting.quantize as quantize

    reg, data, _ = setup
    monkeypatch.setattr(quantize, "SEQUENCE_TOLERANCE", -1.0)  # no file can pass: the gate runs
    with pytest.raises(
        ExportError,
        match=r"int8 variant refused, nothing registered: in one session batch 1: max \|logit "
        r"difference\| 0 from the same pairs at another batch size \(allowed -1\); batch 7: .*"
        r"batch 512: .*batch 1024: .*batch 300: ",
    ):
        quantize_entry(reg, "tiny1", data, name="unsteady", calibration=64, max_drop=1.0)
    assert not [c for c in reg.list() if c["name"] == "unsteady"]


def test_ensemble_with_an_int8_member_exports_to_one_file(setup):
    reg, data, tmp = setup
    if not [c for c in reg.list() if c["name"] == "tiny0-int8"]:
        quantize_entry(reg, "tiny0", data, calibration=128, max_drop=0.03)
    run = run_ensemble_eval(
        reg,
        data,
        tmp / "mixed",
        models=["tiny0-int8", "tiny1"],
        params=StackingParams(n_estimators=20),
        name="mixed",
    )
    assert [m["name"] for m in run.card["members"]] == ["tiny0-int8", "tiny1"]
    x = make_pairs(200, seed=9)[0]
    result = export_ensemble(reg, "mixed", x, out=tmp / "mixed.onnx")
    assert result.parity.ok
