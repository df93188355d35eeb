"""int8 variants of registry models: onnxruntime static quantization (QDQ), gated on accuracy.

Activations uint8, weights int8 per channel (u8s8, the fast path of VNNI CPUs), calibrated on
training pairs with the 99.99th percentile of each activation's histogram: on the builtin models
plain MinMax let rare outliers stretch the ranges and cost up to 10 points of val accuracy (FPN,
width 0.25), the percentile none. The variant is registered only if its val accuracy is at most
``max_drop`` (0.5 points) below the fp32 model's, both measured through onnxruntime, and if the
int8 file, in one session, gives the same logits at batch sizes 1, 7, 512, 1024 and 300 in a row
as at the measuring batch size (pairzoo.runtime.batches).
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.format import load_data_dir
from pairzoo.data.tensors import split_pairs_np
from pairzoo.errors import DataError, ExportError
from pairzoo.machine import this_cpu
from pairzoo.metrics import classification_metrics, sigmoid
from pairzoo.registry import Registry
from pairzoo.registry.card import Card, check_name
from pairzoo.runtime.batches import SEQUENCE, sequence_problems
from pairzoo.runtime.gate import BATCH_SEQUENCE
from pairzoo.runtime.logits import session_logits
from pairzoo.runtime.sessions import open_session

CALIBRATION_PAIRS = 512
CALIBRATION_BATCH = 64
CALIBRATION = {"method": "Percentile", "percentile": 99.99}
# The fusion head's nodes (pairzoo.siamese: module `fusion`) stay fp32. The digit-posterior head
# adds log-weights of -1e4 to log-probabilities: one uint8 range over both left a 40-grey-level
# step, and its int8 models fell to 50-60% val; the head is a few thousand MACs of millions.
FP32_SCOPE = "/fusion/"
MAX_DROP = 0.005


class _PairReader:
    """CalibrationDataReader over uint8 pairs, one batch of {xa, xb} at a time."""

    def __init__(self, x: np.ndarray, batch: int):
        self.x, self.batch, self.start = x, batch, 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.start >= len(self.x):
            return None
        xa, xb = split_pairs_np(self.x[self.start : self.start + self.batch])
        self.start += self.batch
        return {"xa": xa, "xb": xb}

    def rewind(self) -> None:
        self.start = 0


def calibration_pairs(data_dir: str | Path, n: int, seed: int = 0) -> np.ndarray:
    """`n` training pairs drawn without replacement (seeded)."""
    train = load_data_dir(data_dir, "train")
    if len(train.x) == 0:
        raise DataError(f"{data_dir}: the train split is empty; calibration needs training pairs")
    pick = np.random.default_rng(seed).permutation(len(train.x))[: min(n, len(train.x))]
    return train.x[np.sort(pick)]


def quantize_onnx(src: Path, dst: Path, calib: np.ndarray) -> None:
    """Static QDQ quantization of the pair model at `src` into `dst`."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = dst.with_suffix(".pre.onnx")
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    # the calibrator prints its progress and logs a note per 1-D weight: keep stdout for the CLI
    with _quiet_root_logger(), contextlib.redirect_stdout(io.StringIO()):
        _quantize(pre, dst, calib)
    pre.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _quantize(pre: Path, dst: Path, calib: np.ndarray) -> None:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(_PairReader, CalibrationDataReader):
        pass

    head = [n.name for n in onnx.load(str(pre)).graph.node if n.name.startswith(FP32_SCOPE)]

    quantize_static(
        str(pre),
        str(dst),
        Reader(calib, CALIBRATION_BATCH),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=_needs_reduced_range(),
        calibrate_method=CalibrationMethod.Percentile,
        nodes_to_exclude=head,
        extra_options={"CalibPercentile": CALIBRATION["percentile"]},
    )


def _needs_reduced_range() -> bool:
    """7-bit weights on a CPU without VNNI: there onnxruntime multiplies uint8 by int8 through
    instructions that saturate 16-bit sums, which cost a small model 7 points of val accuracy on
    an AVX2-only AMD EPYC (Zen 3); VNNI sums in 32 bits and keeps the full 8-bit range."""
    flags = this_cpu().flags
    return not any(f in flags for f in ("avx512_vnni", "avx_vnni"))


def logits_of(model: Path, x: np.ndarray) -> np.ndarray:
    """Logits of the ONNX pair model at `model` on uint8 pairs `x`, in a session of its own."""
    return session_logits(open_session(str(model)), x)


def metrics_of(
    model: Path, x: np.ndarray, y: np.ndarray | None, logits: np.ndarray | None = None
) -> dict[str, Any] | None:
    """Accuracy, F1, precision, recall, ROC-AUC of the ONNX pair model at `model` on `x`."""
    if y is None:
        return None
    return classification_metrics(y, sigmoid(logits_of(model, x) if logits is None else logits))


def sequence_gate(model: Path, x: np.ndarray, logits: np.ndarray) -> list[str]:
    """The int8 file in one new session at every batch size of the sequence, against `logits`."""
    return sequence_problems(open_session(str(model)), x, logits, BATCH_SEQUENCE)


def quantize_entry(
    registry: Registry,
    ref: str,
    data_dir: str | Path,
    name: str | None = None,
    calibration: int = CALIBRATION_PAIRS,
    max_drop: float = MAX_DROP,
) -> Card:
    """Quantize registry model `ref` to int8 and register it as `name` (default NAME-int8)."""
    start = time.perf_counter()
    card = registry.resolve(ref)
    full = card.ref
    if card.kind != "model":
        raise ExportError(f"{full} is an entry of kind '{card.kind}'; only models are quantized")
    name = check_name(name or f"{card.name}-int8")
    val = load_data_dir(data_dir, "val")
    calib = calibration_pairs(data_dir, calibration)
    with tempfile.TemporaryDirectory(prefix="pairzoo-quantize-") as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "model.onnx"
        src.write_bytes(registry.read_file(card, card.onnx))
        try:
            quantize_onnx(src, dst, calib)
        except Exception as exc:  # onnxruntime.quantization raises many unrelated types
            raise ExportError(
                f"{full}: int8 quantization failed: {type(exc).__name__}: {exc}"
            ) from exc
        int8_logits = logits_of(dst, val.x)
        fp32_val, int8_val = (
            metrics_of(src, val.x, val.y),
            metrics_of(dst, val.x, val.y, int8_logits),
        )
        fp32, int8 = fp32_val["accuracy"], int8_val["accuracy"]
        figures = (
            f"val accuracy fp32 {100 * fp32:.2f}%, int8 {100 * int8:.2f}% "
            f"(drop {100 * (fp32 - int8):.2f} points, allowed {100 * max_drop:.2f}) on {len(val.y)} pairs"
        )
        if fp32 - int8 > max_drop + 1e-12:
            raise ExportError(f"{full}: int8 variant refused, nothing registered: {figures}")
        problems = sequence_gate(dst, val.x, int8_logits)
        if problems:
            raise ExportError(
                f"{full}: int8 variant refused, nothing registered: in one session "
                f"{'; '.join(problems)}"
            )
        new = _int8_card(
            card, full, fp32, int8, len(val.y), len(calib), time.perf_counter() - start
        )
        new["metrics"] = {"val": int8_val, "test_public": _test_metrics(dst, data_dir)}
        return registry.add_entry(name, "model", {"model.onnx": dst}, new)


def _int8_card(
    card: Card, full: str, fp32: float, int8: float, n_val: int, n_calib: int, seconds: float
) -> dict:
    keep = (
        "signature",
        "architecture",
        "fusion_heads",
        "loss",
        "label_rule",
        "parameters",
        "macs_per_pair",
        "data",
        "source",
        "config",
    )
    return {
        **{k: v for k, v in card.to_dict().items() if k in keep},
        "onnx": "model.onnx",
        "quantization": {
            "from": full,
            "from_sha256": card.onnx_sha256,
            "format": "QDQ",
            "activations": "uint8 (per tensor)",
            "weights": "int8 (per channel)",
            "calibration": {"split": "train", "pairs": n_calib, **CALIBRATION},
            "val_accuracy": {
                "fp32": fp32,
                "int8": int8,
                "drop_points": round(100 * (fp32 - int8), 3),
                "pairs": n_val,
            },
            "batch_sequence": {"sizes": list(SEQUENCE), "tolerance": BATCH_SEQUENCE},
            "seconds": round(seconds, 3),
        },
    }


def _test_metrics(model: Path, data_dir: str | Path) -> dict[str, Any] | None:
    if not (Path(data_dir) / "test_public.npz").is_file():
        return None
    test = load_data_dir(data_dir, "test_public")
    return metrics_of(model, test.x, test.y)
