"""The two slow tests of `plugins check`: ONNX export with parity, and learning easy data."""

from __future__ import annotations

from pathlib import Path

from pairzoo.data.tensors import split_pairs_np
from pairzoo.errors import ExportError
from pairzoo.exporting.onnx_export import check_onnx, export_onnx
from pairzoo.exporting.parity import refusal, run_parity
from pairzoo.plugin_check.easy_data import easy_pairs, write_easy_data
from pairzoo.train import train_run

PARITY_BATCHES = (1, 7, 64)
LEARN_PAIRS, LEARN_VAL = 512, 256
LEARN_EPOCHS = 4
LEARN_TARGET = 0.9  # val accuracy the model must reach within LEARN_EPOCHS on easy data


def onnx_parity(model, path: Path) -> str:
    """Export `model`, check the file and compare onnxruntime with PyTorch on easy pairs."""
    import numpy as np

    model.eval()
    export_onnx(model, path)
    check_onnx(path)
    x, _, _ = easy_pairs(np.random.default_rng(1), max(PARITY_BATCHES))
    report = run_parity(model, path, *split_pairs_np(x), batch_sizes=PARITY_BATCHES)
    if not report["passed"]:
        raise ExportError(refusal(report)[0])
    worst = max([b["max_abs_diff"] for b in report["batches"]] + [report["swap"]["max_abs_diff"]])
    sizes = ", ".join(str(b) for b in PARITY_BATCHES)
    return f"max |onnx - torch| {worst:.2g} at batch sizes {sizes} and swapped"


class _Reached(Exception):
    """Raised from the epoch callback once the target is met: no need to train further."""


def learns(arch: str, arch_params: dict, loss: str, rule: str, tmp: str) -> str:
    """Train through pairzoo's own trainer on easy data until val accuracy reaches the target."""
    data = Path(tmp) / f"easy-{rule}"
    if not data.is_dir():
        write_easy_data(data, LEARN_PAIRS, LEARN_VAL, seed=0, rule=rule)
    runs = Path(tmp) / "runs"
    out = runs / f"run-{len(list(runs.iterdir())) if runs.is_dir() else 0}"
    config = {
        "arch": arch,
        "arch_params": arch_params,
        "loss": loss,
        "rule": rule,
        "data": str(data),
        "seed": 0,
        "train": {
            "epochs": LEARN_EPOCHS, "batch_size": 16, "lr": 3e-3, "augment": False,
            "patience": 0, "device": "cpu",
        },
    }  # fmt: skip
    best = {"epoch": 0, "accuracy": 0.0}

    def on_epoch(row: dict) -> None:
        if row["val_accuracy"] > best["accuracy"]:
            best.update(epoch=row["epoch"], accuracy=row["val_accuracy"])
        if row["val_accuracy"] >= LEARN_TARGET:
            raise _Reached

    try:
        train_run(config, out, progress=False, on_epoch=on_epoch)
    except _Reached:
        return (
            f"val accuracy {best['accuracy']:.1%} after {best['epoch']} epoch(s) of easy "
            f"{rule!r} pairs ({LEARN_PAIRS} to train on; target {LEARN_TARGET:.0%})"
        )
    raise AssertionError(
        f"val accuracy reached only {best['accuracy']:.1%} in {LEARN_EPOCHS} epochs of easy "
        f"{rule!r} pairs (target {LEARN_TARGET:.0%}): the model does not learn"
    )
