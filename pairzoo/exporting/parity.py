"""The parity gate: onnxruntime against PyTorch on real validation pairs, at several batch sizes.

Each batch is one onnxruntime call, in one session, at the sizes of
pairzoo.runtime.batches.SEQUENCE in order, so the dynamic batch axis is proven by running
it, with a larger batch after a smaller one and a smaller after a larger. A batch larger than the
validation split repeats its pairs (the report says so). The swap check runs
the exported model on (xb, xa) too, as one batch of the largest size: its parity with PyTorch is
gated on the first SWAP_REFERENCE_PAIRS pairs, and how the decisions change under the swap is
reported over every distinct pair.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch

from pairzoo.errors import ExportError
from pairzoo.runtime.batches import SEQUENCE, batch_indices
from pairzoo.runtime.gate import EXPORT_LOGITS, Gate, max_abs_diff
from pairzoo.runtime.sessions import open_session

BATCH_SIZES = SEQUENCE
SWAP_REFERENCE_PAIRS = 256  # PyTorch is ~3x slower than onnxruntime on CPU: a subset suffices
_TORCH_CHUNK = 256


def run_parity(
    model,
    onnx_path,
    xa: np.ndarray,
    xb: np.ndarray,
    batch_sizes=BATCH_SIZES,
    tolerance: float = EXPORT_LOGITS,
) -> dict:
    """Compare `model` with the ONNX file on float32 (N, 1, 28, 28) pairs; returns the report.

    The report (a JSON-able dict) has passed, tolerance, provider, pairs_available,
    repeated_pairs, batches [{batch_size, max_abs_diff, repeated}], swap {...} and note.
    """
    n = len(xa)
    if n == 0:
        raise ValueError("no validation pairs to check parity on")
    try:
        # as many threads as PyTorch runs on here (its default is one per physical core, like
        # onnxruntime's; OMP_NUM_THREADS or --threads lower both); no spinning, no warnings
        session = open_session(str(onnx_path), threads=torch.get_num_threads(), inter_op=0)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ExportError(f"{onnx_path}: onnxruntime cannot load the export ({exc})") from exc
    biggest = max(batch_sizes)
    unique = min(n, biggest)
    ref_ab = _torch_logits(model, xa[:unique], xb[:unique])
    batches, problems, outputs = [], [], {}
    for size in batch_sizes:
        idx = batch_indices(n, size)
        outputs[size] = _ort_logits(session, xa[idx], xb[idx], problems, f"batch {size}")
        diff = max_abs_diff(outputs[size], ref_ab[idx % unique])
        batches.append({"batch_size": size, "max_abs_diff": diff, "repeated": size > n})
    idx = batch_indices(n, biggest)
    ort_ba = _ort_logits(session, xb[idx], xa[idx], problems, f"swapped batch {biggest}")
    checked = min(unique, SWAP_REFERENCE_PAIRS)
    ref_ba = _torch_logits(model, xb[:checked], xa[:checked])
    swap = {
        "batch_size": biggest,
        "reference_pairs": checked,
        "max_abs_diff": max_abs_diff(ort_ba[:checked], ref_ba),
        # the biggest batch starts with every distinct pair once
        **_swap_behaviour(outputs[biggest][:unique], ort_ba[:unique]),
    }
    return {
        "passed": Gate(tolerance, [*batches, swap], problems).ok,
        "tolerance": tolerance,
        "dtype": "float32",
        "provider": session.get_providers()[0],
        "onnxruntime": ort.__version__,
        "pairs_available": n,
        "pairs_used": unique,
        "repeated_pairs": biggest > n,
        "batches": batches,
        "swap": swap,
        "note": _note(n, biggest, problems),
    }


def _torch_logits(model, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    parts = []
    with torch.no_grad():
        for i in range(0, len(xa), _TORCH_CHUNK):
            a = torch.from_numpy(np.ascontiguousarray(xa[i : i + _TORCH_CHUNK]))
            b = torch.from_numpy(np.ascontiguousarray(xb[i : i + _TORCH_CHUNK]))
            parts.append(model(a, b).float().reshape(-1).numpy())
    return np.concatenate(parts)


def _ort_logits(session, xa, xb, problems: list[str], what: str) -> np.ndarray:
    feed = {"xa": np.ascontiguousarray(xa, np.float32), "xb": np.ascontiguousarray(xb, np.float32)}
    try:
        out = session.run(["logit"], feed)[0]
    except Exception as exc:  # e.g. a batch axis that is not really dynamic
        problems.append(f"{what}: onnxruntime failed ({type(exc).__name__}: {exc})")
        return np.full(len(xa), np.nan, np.float32)
    if out.shape != (len(xa),) or out.dtype != np.float32:
        problems.append(f"{what}: output {out.dtype} {out.shape}, expected float32 ({len(xa)},)")
        out = np.full(len(xa), np.nan, np.float32) if out.size != len(xa) else out.reshape(-1)
    return out.astype(np.float32, copy=False)


def _swap_behaviour(l_ab: np.ndarray, l_ba: np.ndarray) -> dict:
    """How the exported model treats (xb, xa) compared with (xa, xb), on distinct pairs."""
    return {
        "pairs": int(len(l_ab)),
        "flip_rate": float(np.mean((l_ab > 0) != (l_ba > 0))),
        "antisymmetry_max_abs": float(np.max(np.abs(l_ab + l_ba))),
        "symmetry_max_abs": float(np.max(np.abs(l_ab - l_ba))),
    }


def _note(n: int, biggest: int, problems: list[str]) -> str:
    notes = list(problems)
    if biggest > n:
        notes.append(f"the {biggest}-pair batch repeats the {n} validation pairs")
    return "; ".join(notes)


def refusal(report: dict) -> tuple[str, str]:
    """(cause, figures) of a failed gate: what failed first, then the one line of figures."""
    problems = [p for p in report["note"].split("; ") if p and " repeats the " not in p]
    if not problems:
        worst = [(b["max_abs_diff"], f"batch {b['batch_size']}") for b in report["batches"]]
        swap = report["swap"]
        worst.append((swap["max_abs_diff"], f"swapped batch {swap['batch_size']}"))
        diff, where = max(worst, key=lambda d: float("inf") if d[0] != d[0] else d[0])
        problems = [
            f"{where}: max |onnx - torch| {diff:.3g} exceeds the tolerance {report['tolerance']:g}"
        ]
    return "; ".join(problems), parity_line(report)


def parity_line(report: dict) -> str:
    """One line of parity figures, for the CLI and for a failed gate's message."""
    parts = [f"batch {b['batch_size']}: {b['max_abs_diff']:.3g}" for b in report["batches"]]
    swap = report["swap"]
    parts.append(
        f"swapped batch {swap['batch_size']} (first {swap['reference_pairs']} checked): "
        f"{swap['max_abs_diff']:.3g}"
    )
    text = (
        f"max |onnx - torch| {', '.join(parts)} (tolerance {report['tolerance']:g}); "
        f"swap (xa, xb) -> (xb, xa) flips {swap['flip_rate']:.1%} of decisions, "
        f"max |l(a,b) + l(b,a)| {swap['antisymmetry_max_abs']:.3g}"
    )
    return text + (f"; {report['note']}" if report["note"] else "")
