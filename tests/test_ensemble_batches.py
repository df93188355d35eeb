"""A zoo of every builtin architecture and every order-aware head, int8 and fp32, as one file.

Each model is trained (one tiny epoch), exported behind the parity gate, quantized behind the int8
gate, stacked, and merged into one ONNX file; that file must run, in one session, at batch sizes
1, 7, 512, 1024 and 300 in a row and agree with the Python path (one session per member plus
LightGBM) at each. Quantization writes ONNX shape inference's dim names (unk__0, unk__1, ...)
into every int8 file, each model numbering its own, so this zoo is where they meet.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from export_fixtures import make_data, train_tiny

from pairzoo.ensemble.export import export_ensemble
from pairzoo.ensemble.merged_parity import run_merged
from pairzoo.ensemble.onnx_dims import dim_params
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.predict import PredictSettings, predict_proba
from pairzoo.ensemble.settings import EvalSettings, ExportSettings
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.errors import ExportError
from pairzoo.exporting import export_run
from pairzoo.exporting.quantize import quantize_entry
from pairzoo.plugins import catalog
from pairzoo.registry import Registry
from pairzoo.runtime.batches import SEQUENCE, batch_indices
from pairzoo.runtime.sessions import open_session

pytestmark = pytest.mark.slow

BUILTIN = "pairzoo_plugins."
TINY = {"width_mult": 0.125, "feat_dim": 8, "layers": [1]}


def order_aware_heads() -> list[str]:
    heads = catalog().fusion_heads
    return sorted(
        n for n, h in heads.items() if h.plugin.startswith(BUILTIN) and not h.obj.symmetric
    )


def zoo_specs() -> dict[str, tuple[str, dict]]:
    """name -> (arch, params): every builtin architecture at its defaults (heads, antisymmetry)
    at tiny width, and a resnet with every order-aware head (the zoo's ResNet-Fusion)."""
    archs = catalog().architectures
    specs = {}
    for arch, reg in sorted(archs.items()):
        if reg.plugin.startswith(BUILTIN):
            specs[arch] = (
                arch,
                {**reg.params, **{k: v for k, v in TINY.items() if k in reg.params}},
            )
    specs["resnet-fusion"] = (
        "resnet",
        {**archs["resnet"].params, **TINY, "heads": order_aware_heads()},
    )
    return specs


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batches")
    data = make_data(tmp / "data", n_train=96, n_val=160, n_test=32)
    reg = Registry(tmp / "registry")
    for seed, (name, (arch, params)) in enumerate(zoo_specs().items()):
        run = train_tiny(tmp / "runs" / name, data, arch, params, seed=seed)
        export_run(run, reg, name=name, data_dir=data)
        # the accuracy gate is not what this test is about: tiny models drop several points
        quantize_entry(reg, name, data, calibration=64, max_drop=1.0)
    return reg, data, tmp


def test_zoo_covers_every_builtin_architecture_and_order_aware_head():
    specs = zoo_specs()
    archs = {a for a, _ in specs.values()}
    assert archs == {"baseline", "fpn", "improved_v2", "resnet"}
    assert {"concat", "residual"} <= set(order_aware_heads())
    assert set(specs["resnet-fusion"][1]["heads"]) == set(order_aware_heads())
    assert {h for _, p in specs.values() for h in p["heads"]} >= set(order_aware_heads())
    assert {p["antisymmetric"] for _, p in specs.values()} == {True, False}


def test_int8_members_carry_colliding_inferred_dims(zoo):
    reg, _, _ = zoo
    dims = [
        dim_params(onnx.load(str(reg.file_path(c)))) for c in reg.list() if "-int8" in c["name"]
    ]
    assert len(dims) == len(zoo_specs())
    shared = set.intersection(*dims) - {"N"}
    assert shared, "the int8 files no longer share inferred dim names: this test lost its point"


@pytest.mark.parametrize("kind", ["int8", "mixed"])
def test_one_file_runs_at_every_batch_size_like_the_python_path(zoo, kind):
    reg, data, tmp = zoo
    names = list(zoo_specs())
    pick = {
        "int8": [f"{n}-int8" for n in names],
        "mixed": [f"{n}-int8" if i % 2 else n for i, n in enumerate(names)],
    }[kind]
    run_ensemble_eval(
        reg,
        EvalSettings(
            data,
            tmp / f"report-{kind}",
            models=pick,
            params=StackingParams(n_estimators=20, folds=2, min_child_samples=5),
            name=f"zoo-{kind}",
        ),
    )
    from pairzoo.data.format import load_data_dir

    x = load_data_dir(data, "val").x
    out = tmp / f"zoo-{kind}.onnx"
    # onnxruntime plans the merged file's buffers: the gate of its probabilities, not decisions
    settings = ExportSettings(f"zoo-{kind}", out=out, runtime="ort", fuse="never")
    result = export_ensemble(reg, settings, x)
    assert result.parity.ok and not result.parity.errors
    assert [b["batch_size"] for b in result.parity.batches] == list(SEQUENCE)

    # the written file, in a new session, at each batch size in a row, against the Python path
    reference, _ = predict_proba(reg, x, PredictSettings(ensemble=f"zoo-{kind}"))
    session = open_session(out.read_bytes())
    for size in SEQUENCE:
        idx = batch_indices(len(x), size)
        proba, label = run_merged(session, x[idx], size)
        np.testing.assert_allclose(proba, reference[idx], atol=1e-5, err_msg=f"batch {size}")
        np.testing.assert_array_equal(label, (reference[idx] > 0.5).astype(np.int64))


def test_a_file_that_fails_at_a_second_batch_size_is_refused(zoo, monkeypatch):
    """Every int8 member's own dims (N and 2N alike) under one name, as unscoped shape-inference
    names can meet in a merged file: onnxruntime plans buffers on it and breaks; the gate must
    catch it."""
    import pairzoo.ensemble.onnx_dims as onnx_dims
    import pairzoo.ensemble.onnx_merge as onnx_merge

    reg, data, tmp = zoo
    run_ensemble_eval(
        reg,
        EvalSettings(
            data,
            tmp / "report-shared-dims",
            models=[f"{n}-int8" for n in zoo_specs()],
            params=StackingParams(n_estimators=20, folds=2, min_child_samples=5),
            name="zoo-shared-dims",
        ),
    )

    def one_name(model, prefix, batch):
        batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
        onnx_dims._rename_graph(model.graph, lambda d: batch if d == batch_dim else "unk__0")
        return model

    monkeypatch.setattr(onnx_merge, "scope_dims", one_name)
    from pairzoo.data.format import load_data_dir

    out = tmp / "shared-dims.onnx"
    with pytest.raises(ExportError, match=r"(?s)batch \d+: the runtime failed .*nothing written"):
        export_ensemble(
            reg, ExportSettings("zoo-shared-dims", out=out), load_data_dir(data, "val").x
        )
    assert not out.exists()
