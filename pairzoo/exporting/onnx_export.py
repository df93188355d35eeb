"""A pair model to ONNX: TorchScript-based exporter, opset 17, dynamic batch, full checker.

The legacy (TorchScript) exporter is asked for explicitly with ``dynamo=False``; it returns None
where the torch.export-based one returns an ONNXProgram, and that is checked, so a future
torch that quietly routes to the other exporter fails loudly here instead.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from pairzoo.errors import ExportError

OPSET = 17
INPUTS = ("xa", "xb")
OUTPUT = "logit"
BATCH = "N"
_PAIR_DIMS = [1, 28, 28]


def export_onnx(model, path: str | Path, opset: int = OPSET) -> dict[str, Any]:
    """Write `model` (eval mode, CPU) to `path`; returns facts about the export for the card."""
    import torch

    if opset < OPSET:
        raise ExportError(f"ONNX opset {opset} requested, expected {OPSET} or newer")
    path = Path(path)
    example = (torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28))
    dynamic = {name: {0: BATCH} for name in (*INPUTS, OUTPUT)}
    start = time.perf_counter()
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            result = torch.onnx.export(
                model,
                example,
                str(path),
                input_names=list(INPUTS),
                output_names=[OUTPUT],
                dynamic_axes=dynamic,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many unrelated types
        raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {_gist(exc)}") from exc
    if result is not None:
        raise ExportError(
            f"torch.onnx.export returned {type(result).__name__}: the torch.export-based exporter "
            "ran although the TorchScript one (dynamo=False) was asked for"
        )
    return {
        "opset": opset,
        "exporter": "torch.onnx.export (TorchScript, dynamo=False)",
        "torch": torch.__version__,
        "export_s": round(time.perf_counter() - start, 3),
    }


def _gist(exc: Exception) -> str:
    """The exporter's message without the TorchScript graph it appends ("[Caused by ...")."""
    text = str(exc).split("[Caused by", 1)[0].strip()
    return " ".join(text.split()) or type(exc).__name__


def check_onnx(path: str | Path, opset: int = OPSET) -> dict[str, Any]:
    """Full onnx.checker pass plus the pair-model signature; returns the ONNX facts for the card."""
    import onnx

    path = Path(path)
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:
        raise ExportError(f"{path}: onnx.checker (full check) failed: {exc}") from exc
    model = onnx.load(str(path), load_external_data=False)
    default_opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if default_opset < opset:
        raise ExportError(f"{path}: declares opset {default_opset}, expected {opset} or newer")
    inputs = [_describe(v) for v in model.graph.input]
    outputs = [_describe(v) for v in model.graph.output]
    want_in = [(n, "float32", [BATCH, *_PAIR_DIMS]) for n in INPUTS]
    want_out = [(OUTPUT, "float32", [BATCH])]
    if [(i["name"], i["dtype"], i["shape"]) for i in inputs] != want_in:
        raise ExportError(f"{path}: inputs are {inputs}, expected {want_in}")
    if [(o["name"], o["dtype"], o["shape"]) for o in outputs] != want_out:
        raise ExportError(f"{path}: outputs are {outputs}, expected {want_out}")
    return {
        "opset": default_opset,
        "ir_version": model.ir_version,
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "onnx": onnx.__version__,
        "nodes": len(model.graph.node),
        "bytes": path.stat().st_size,
    }


def _describe(value) -> dict[str, Any]:
    import onnx

    tensor = value.type.tensor_type
    dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in tensor.shape.dim]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name if tensor.elem_type else "?"
    return {"name": value.name, "dtype": dtype, "shape": dims}
