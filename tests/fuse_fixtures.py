"""Random builtin pair models that fuse by shape, and a registry of them."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch

from pairzoo.exporting.onnx_export import export_onnx
from pairzoo.plugins import build_architecture, load_plugins

RESNET = {"layers": [1, 1], "width_mult": 0.125, "feat_dim": 16}
WIDER = {"layers": [1, 1], "width_mult": 0.25, "feat_dim": 16}
FPN = {"layers": [1, 1, 1], "width_mult": 0.125, "feat_dim": 16}


def random_member(tmp_path: Path, arch: str, params: dict, seed: int) -> onnx.ModelProto:
    """A randomly initialised model whose batch-norm statistics differ from the defaults."""
    load_plugins(None)
    torch.manual_seed(seed)
    model = build_architecture(arch, params)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    path = tmp_path / f"{arch}-{seed}.onnx"
    export_onnx(model.eval(), path)
    return onnx.load(str(path))


def register_models(registry, tmp_path: Path, models: list[onnx.ModelProto]) -> list[str]:
    """Each model as registry entry m0, m1, ...; their refs."""
    refs = []
    for i, model in enumerate(models):
        src = tmp_path / f"m{i}.onnx"
        onnx.save(model, str(src))
        card = {"onnx": "model.onnx", "macs_per_pair": 1000, "metrics": {"val": None}}
        refs.append(registry.add_entry(f"m{i}", "model", {"model.onnx": src}, card).ref)
    return refs
