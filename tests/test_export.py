import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner
from export_fixtures import EXPORT_PLUGINS, shared_data, shared_run, train_tiny

from pairzoo.cli import main
from pairzoo.errors import ExportError
from pairzoo.exporting import export_run
from pairzoo.exporting.onnx_export import export_onnx
from pairzoo.plugins import catalog, load_plugins
from pairzoo.registry import Registry
from pairzoo.registry.card import sha256_file

ARCHS = sorted(catalog().architectures)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return shared_data(tmp_path_factory)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {arch: shared_run(tmp_path_factory, arch) for arch in ARCHS}


@pytest.fixture
def plugins_dir(monkeypatch):
    monkeypatch.setenv("PAIRZOO_PLUGINS_DIR", str(EXPORT_PLUGINS))
    load_plugins()
    yield EXPORT_PLUGINS
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR")
    load_plugins()


@pytest.mark.parametrize("arch", ARCHS)
def test_builtin_architecture_exports_and_passes_parity(arch, runs, data_dir, tmp_path):
    from pairzoo.data.format import load_data_dir
    from pairzoo.data.tensors import split_pairs_np
    from pairzoo.train.rundir import load_run

    reg = Registry(tmp_path / "reg")
    card = export_run(runs[arch], reg)
    assert (card["name"], card["version"], card["kind"]) == (arch, 1, "model")
    parity = card["parity"]
    assert parity["passed"] and parity["tolerance"] == 1e-4
    assert [b["batch_size"] for b in parity["batches"]] == [1, 7, 512, 1024, 300]
    assert all(b["max_abs_diff"] <= 1e-4 for b in parity["batches"])
    assert parity["swap"]["max_abs_diff"] <= 1e-4
    assert parity["repeated_pairs"] and "repeats the 24 validation pairs" in parity["note"]
    assert card["architecture"]["name"] == arch
    assert card["architecture"]["plugin"] == "pairzoo_plugins.architectures"
    assert card["loss"]["name"] == "bce" and card["loss"]["plugin"] == "pairzoo_plugins.losses"
    assert card["parameters"] > 0 and card["macs_per_pair"] > 0
    assert card["onnx_info"]["opset"] >= 17
    onnx_path = reg.file_path(card)
    assert (
        card["onnx_info"]["sha256"]
        == card["files"]["model.onnx"]["sha256"]
        == sha256_file(onnx_path)
    )
    assert card["onnx_info"]["bytes"] == onnx_path.stat().st_size
    assert card["verified_with"]["onnxruntime"] == parity["onnxruntime"]
    assert card["metrics"]["val"]["accuracy"] is not None and card["metrics"]["test_public"]
    assert card["data"]["fingerprint"] == card["config"]["data_fingerprint"]
    assert card["data"]["meta"]["source"] == "synthetic-test"
    assert card["source"]["model_pt_sha256"] == sha256_file(runs[arch] / "model.pt")
    assert len(card["source"]["config_hash"]) == 64
    # the registered file, run in onnxruntime, agrees with the run's PyTorch model
    xa, xb = split_pairs_np(load_data_dir(data_dir, "val").x)
    opened = reg.open_session(f"{arch}@1")
    with torch.no_grad():
        want = load_run(runs[arch]).model(torch.from_numpy(xa), torch.from_numpy(xb)).numpy()
    np.testing.assert_allclose(opened.logits(xa, xb), want, atol=1e-4)
    # the swap figures are those of the registered file on the 24 distinct val pairs
    ab, ba = opened.logits(xa, xb), opened.logits(xb, xa)
    swap = parity["swap"]
    assert swap["pairs"] == 24
    assert swap["flip_rate"] == np.mean((ab > 0) != (ba > 0))
    assert swap["antisymmetry_max_abs"] == pytest.approx(np.abs(ab + ba).max(), abs=1e-5)
    if load_run(runs[arch]).config["arch_params"].get("antisymmetric"):
        assert swap["flip_rate"] == 1.0 and swap["antisymmetry_max_abs"] <= 1e-5


def test_onnx_signature_and_exporter(runs, tmp_path):
    reg = Registry(tmp_path / "reg")
    card = export_run(runs[ARCHS[0]], reg, name="sig")
    model = onnx.load(str(reg.file_path(card)))
    assert [i.name for i in model.graph.input] == ["xa", "xb"]
    assert [o.name for o in model.graph.output] == ["logit"]
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 28, 28]
    assert card["onnx_info"]["exporter"].startswith("torch.onnx.export (TorchScript")
    assert card["signature"]["inputs"][0] == {
        "name": "xa",
        "dtype": "float32",
        "shape": ["N", 1, 28, 28],
    }
    again = export_run(runs[ARCHS[0]], reg, name="sig")  # versions are immutable: a new one
    assert again["version"] == 2 and reg.file_path(card).exists()


class TinyPair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(784, 1)

    def forward(self, xa, xb):
        return self.linear(xa.flatten(1) - xb.flatten(1)).squeeze(1)


def test_dynamo_exporter_is_never_used(monkeypatch, tmp_path):
    from torch.onnx._internal.exporter import _compat

    def refuse(*args, **kwargs):
        raise AssertionError("the torch.export-based exporter was called")

    monkeypatch.setattr(_compat, "export_compat", refuse)
    assert export_onnx(TinyPair(), tmp_path / "m.onnx")["opset"] == 17
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: object())
    with pytest.raises(ExportError, match="torch.export-based exporter ran"):
        export_onnx(TinyPair(), tmp_path / "m2.onnx")


def test_cli_export_then_registry_commands(runs, tmp_path):
    reg_dir = tmp_path / "reg"
    result = CliRunner().invoke(
        main, ["export", str(runs[ARCHS[0]]), "--registry", str(reg_dir), "--name", "cli"]
    )
    assert result.exit_code == 0, result.output
    assert "registered cli@1" in result.output and "batch 1024:" in result.output
    listing = CliRunner().invoke(main, ["registry", "ls", "--registry", str(reg_dir)])
    assert "cli" in listing.output and ARCHS[0] in listing.output
    shown = CliRunner().invoke(main, ["registry", "show", "cli", "--registry", str(reg_dir)])
    assert "parity" in shown.output and "passed" in shown.output
    assert (
        CliRunner().invoke(main, ["registry", "verify", "--registry", str(reg_dir)]).exit_code == 0
    )


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_failed_parity_gate_registers_nothing(plugins_dir, data_dir, tmp_path):
    run = train_tiny(tmp_path / "run", data_dir, "exp_untraceable", {"width": 4})
    reg_dir = tmp_path / "reg"
    result = CliRunner().invoke(main, ["export", str(run), "--registry", str(reg_dir)])
    assert result.exit_code == 1
    assert "parity gate failed, nothing was registered" in result.output
    assert "batch 1:" in result.output and "batch 1024:" in result.output
    assert "Traceback" not in result.output
    assert Registry(reg_dir).list() == []
    assert not [p for p in reg_dir.rglob("*") if p.is_file() and p.suffix == ".onnx"]


def test_concurrent_exports_all_land_in_the_catalogue(runs, tmp_path):
    reg_dir = tmp_path / "reg"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PAIRZOO_PLUGINS_DIR", None)
    cmd = [sys.executable, "-m", "pairzoo", "export", "--registry", str(reg_dir)]
    procs = [
        subprocess.Popen(
            [*cmd, str(runs["baseline"]), "--name", "same"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), outputs
    cards = Registry(reg_dir).list()
    assert [c["version"] for c in cards] == list(range(1, len(procs) + 1))
    assert {c["source"]["model_pt_sha256"] for c in cards} == {
        sha256_file(runs["baseline"] / "model.pt")
    }
    catalogue = json.loads((reg_dir / "catalogue.json").read_text())
    assert len(catalogue["entries"]) == len(procs)
    assert Registry(reg_dir).verify().ok


def test_card_names_the_loose_plugin(plugins_dir, data_dir, tmp_path):
    run = train_tiny(tmp_path / "run", data_dir, "exp_tiny", {"width": 4})
    card = export_run(run, Registry(tmp_path / "reg"))
    assert card["architecture"]["plugin"] == "file:exportpair"
    assert card["architecture"]["plugin_version"] == "0.0.7"
    assert card["parity"]["passed"]


def test_export_module_path_is_importable_without_torch():
    code = "import sys, pairzoo.cli.export_cmd, pairzoo.cli.registry_cmd; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_dir_default_name_and_data_override(runs, data_dir, tmp_path):
    card = export_run(runs[ARCHS[0]], tmp_path / "reg", data_dir=data_dir)
    assert card["name"] == ARCHS[0]
    assert card["data"]["parity_data"] == str(data_dir.resolve())
    assert Path(card["source"]["run_dir"]) == runs[ARCHS[0]].resolve()
