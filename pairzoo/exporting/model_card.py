"""The card of an exported single model: what it is, where it came from, how it was verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.data.format import data_fingerprint, read_meta
from pairzoo.errors import DataError
from pairzoo.plugins import catalog
from pairzoo.profiling import count_macs, count_params
from pairzoo.runtime.signature import MODEL_SIGNATURE

ONNX_NAME = "model.onnx"
_META_KEYS = ("source", "seed", "severity", "rule", "adjacent", "sizes", "created")


def build_card(
    *,
    loaded,
    onnx_info: dict[str, Any],
    parity: dict[str, Any],
    data: dict[str, Any],
    source: dict[str, Any],
    timings: dict[str, float],
) -> dict[str, Any]:
    """Everything but name, version, kind, files and created (the registry adds those)."""
    import onnx
    import torch

    config = loaded.config
    provenance = config.get("provenance") or {}
    return {
        "onnx": ONNX_NAME,
        "onnx_info": onnx_info,
        "signature": MODEL_SIGNATURE,
        "architecture": {
            "name": config["arch"],
            "params": config.get("arch_params") or {},
            **_origin("architectures", config["arch"], provenance.get("arch")),
        },
        "fusion_heads": [_head(h) for h in provenance.get("heads") or []],
        "loss": {
            "name": config.get("loss"),
            "params": config.get("loss_params") or {},
            **_origin("losses", config.get("loss"), provenance.get("loss")),
        },
        "label_rule": {
            "name": config.get("rule"),
            **_origin("label_rules", config.get("rule"), provenance.get("rule")),
        },
        "parameters": count_params(loaded.model),
        "macs_per_pair": count_macs(loaded.model),
        "parity": parity,
        "verified_with": {
            "onnxruntime": parity["onnxruntime"],
            "provider": parity["provider"],
            "onnx": onnx.__version__,
            "torch": torch.__version__,
        },
        "metrics": {
            "val": loaded.metrics.get("val"),
            "test_public": loaded.metrics.get("test_public"),
        },
        "data": data,
        "source": source,
        "config": config,
        "timings": timings,
    }


def _origin(family: str, name: str | None, recorded: dict | None) -> dict[str, Any]:
    """Plugin and version as recorded at training time; else what provides `name` now."""
    if recorded and recorded.get("plugin"):
        return {"plugin": recorded["plugin"], "plugin_version": recorded.get("version")}

    item = catalog().family(family).get(name) if name else None
    if item is None:
        return {"plugin": None, "plugin_version": None}
    return {"plugin": item.plugin, "plugin_version": item.plugin_version}


def _head(recorded: dict) -> dict[str, Any]:
    return {
        "name": recorded.get("name"),
        "plugin": recorded.get("plugin"),
        "plugin_version": recorded.get("version"),
    }


def data_section(config: dict[str, Any], data_dir: Path, n_val: int) -> dict[str, Any]:
    """The training data's fingerprint and meta, and which data the parity gate ran on."""
    try:
        meta = read_meta(data_dir)
    except DataError:
        meta = {}
    try:
        parity_fp = data_fingerprint(data_dir)
    except DataError:
        parity_fp = None
    same = parity_fp is not None and parity_fp == config.get("data_fingerprint")
    return {
        "fingerprint": config.get("data_fingerprint"),
        "path": config.get("data"),
        # meta.json of the training data, when the parity data is that same data set
        "meta": {k: meta[k] for k in _META_KEYS if k in meta} if same else None,
        "parity_data": str(Path(data_dir).resolve()),
        "parity_data_fingerprint": parity_fp,
        "parity_val_pairs": n_val,
    }
