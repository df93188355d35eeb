"""int8 variants: static QDQ quantization gated on val accuracy, usable as ensemble members.

The data are clear pairs (no label noise, the halves' levels at least 15 apart), so the tiny
members are right on every val pair with room to spare: int8 keeps 100% with the real train
pairs as calibration, and loses a little more than the 0.5-point gate allows with the same pairs
at 1/3 of their brightness (`dim`: tiny1 1.33 points, 4 of 300 pairs, measured), so a gate
loosened even to 1 point would let it through. (A calibration far off: test_quantize_cli.py.)
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from ensemble_fixtures import make_pairs, register_tiny_models

from pairzoo.data.format import save_split
from pairzoo.data.labels_csv import write_labels
from pairzoo.ensemble.export import export_ensemble
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.settings import EvalSettings, ExportSettings
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.errors import ExportError
from pairzoo.exporting.quantize import quantize_entry
from pairzoo.registry import Registry


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quantize")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 2)
    data, dim = tmp / "data", tmp / "dim"
    for path, scale in ((data, 1), (dim, 3)):
        path.mkdir()
        for split, n, seed in (("train", 300, 5), ("val", 300, 11), ("test_public", 100, 12)):
            x, y, _ = make_pairs(n, seed, noise=0.0, gap=15.0)
            ids = np.array([f"{split[:3].upper()}_{i:07d}" for i in range(n)])
            if split == "test_public":
                save_split(path / f"{split}.npz", x, ids)
                write_labels(path / "test_public_labels.csv", ids, y)
            else:
                save_split(path / f"{split}.npz", x // scale if split == "train" else x, ids, y=y)
    return reg, data, dim, tmp


def test_int8_variant_is_registered_with_its_figures(setup):
    reg, data, _, _ = setup
    card = quantize_entry(reg, "tiny0", data, calibration=128)
    assert card["name"] == "tiny0-int8" and card["kind"] == "model"
    q = card["quantization"]
    assert q["from"] == "tiny0@1" and q["format"] == "QDQ"
    assert q["calibration"] == {
        "split": "train",
        "pairs": 128,
        "method": "Percentile",
        "percentile": 99.99,
    }
    assert q["val_accuracy"] == {"fp32": 1.0, "int8": 1.0, "drop_points": 0.0, "pairs": 300}
    assert card["metrics"]["val"]["accuracy"] == q["val_accuracy"]["int8"]
    assert q["batch_sequence"] == {"sizes": [1, 7, 512, 1024, 300], "tolerance": 1e-4}
    ops = {n.op_type for n in onnx.load(str(reg.file_path(card))).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_int8_variant_below_the_gate_is_refused(setup):
    reg, _, dim, _ = setup
    with pytest.raises(
        ExportError,
        match=r"int8 variant refused, nothing registered: val accuracy fp32 100.00%, int8 .*% \(drop .* points, allowed 0.50\)",
    ) as refused:
        quantize_entry(reg, "tiny1", dim, name="refused", calibration=64)
    assert float(str(refused.value).split("(drop ")[1].split(" points")[0]) > 0.5
    assert not [c for c in reg.list() if c["name"] == "refused"]


def _batch_dependent(quantize_onnx):
    """`quantize_onnx`, then 0.01 x the batch size added to the logit: a file whose logits of
    the same pairs change with the batch they come in, as a broken quantizer's could."""

    def run(src, dst, calib):
        from onnx import helper

        quantize_onnx(src, dst, calib)
        model = onnx.load(str(dst))
        graph = model.graph
        (final,) = [n for n in graph.node if "logit" in n.output]
        final.output[list(final.output).index("logit")] = "logit_raw"
        nodes = [
            helper.make_node("Shape", ["xa"], ["xa_shape"]),
            helper.make_node("Gather", ["xa_shape", "zero"], ["batch"], axis=0),
            helper.make_node("Cast", ["batch"], ["batch_f"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", ["batch_f", "step"], ["shift"]),
            helper.make_node("Add", ["logit_raw", "shift"], ["logit"]),
        ]
        graph.node.extend(nodes)
        graph.initializer.extend([
            helper.make_tensor("zero", onnx.TensorProto.INT64, [], [0]),
            helper.make_tensor("step", onnx.TensorProto.FLOAT, [], [0.01]),
        ])  # fmt: skip
        onnx.save(model, str(dst))

    return run


def test_int8_variant_that_differs_across_batch_sizes_is_refused(setup, monkeypatch):
    import pairzoo.exporting.quantize as quantize

    reg, data, _, _ = setup
    monkeypatch.setattr(quantize, "quantize_onnx", _batch_dependent(quantize.quantize_onnx))
    with pytest.raises(
        ExportError,
        match=r"int8 variant refused, nothing registered: in one session batch 1: max \|logit "
        r"difference\| \d.* from the same pairs at another batch size \(allowed 0.0001\); "
        r"batch 7: .*batch 512: .*batch 1024: .*batch 300: ",
    ):
        quantize_entry(reg, "tiny1", data, name="unsteady", calibration=64, max_drop=1.0)
    assert not [c for c in reg.list() if c["name"] == "unsteady"]


def test_ensemble_with_an_int8_member_exports_to_one_file(setup):
    reg, data, _, tmp = setup
    if not [c for c in reg.list() if c["name"] == "tiny0-int8"]:
        quantize_entry(reg, "tiny0", data, calibration=128)
    run = run_ensemble_eval(
        reg,
        EvalSettings(
            data,
            tmp / "mixed",
            models=["tiny0-int8", "tiny1"],
            params=StackingParams(n_estimators=20),
            name="mixed",
        ),
    )
    assert [m["name"] for m in run.card["members"]] == ["tiny0-int8", "tiny1"]
    x = make_pairs(200, seed=9)[0]
    result = export_ensemble(reg, ExportSettings("mixed", out=tmp / "mixed.onnx"), x)
    assert result.parity.ok
