"""Evaluate one run directory on the labelled splits of a data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.data.format import load_data_dir
from pairzoo.errors import DataError
from pairzoo.train.batches import DeviceSplit
from pairzoo.train.device import cpu_threads, device_type, pick_runtime
from pairzoo.train.loop import predict_logits
from pairzoo.train.metrics import binary_metrics
from pairzoo.train.rundir import load_run

SPLITS = ("val", "test_public")


def evaluate_run(
    run_dir: str | Path,
    data_dir: str | Path,
    splits: tuple[str, ...] = SPLITS,
    device: str = "cpu",
    batch_size: int = 1024,
    threads: int = 0,
) -> dict[str, Any]:
    """{"run", "data", split: metrics or None (no file or no labels)} for the run's best model.

    Raises RunError (unloadable run), DataError (unreadable data) or ConfigError (device).
    """
    run = load_run(run_dir)
    with cpu_threads(threads):
        # Mixed precision on CUDA only: on the CPU evaluation runs at the exported models' fp32.
        runtime = pick_runtime(device, amp=device_type(device) == "cuda")
        return _evaluate(run, data_dir, splits, runtime, batch_size)


def _evaluate(run, data_dir, splits, runtime, batch_size) -> dict[str, Any]:
    import torch

    model = run.model.to(runtime.device)
    if runtime.channels_last:
        model = model.to(memory_format=torch.channels_last)
    result: dict[str, Any] = {
        "run": run.config.get("name") or run.path.name,
        "data": str(data_dir),
    }
    for split in splits:
        if not (Path(data_dir) / f"{split}.npz").exists():
            result[split] = None
            continue
        data = load_data_dir(data_dir, split)
        if data.y is None:
            result[split] = None
            continue
        x = DeviceSplit.from_arrays(data.x, device=runtime.device).x
        logits = predict_logits(model, x, runtime, batch_size)
        result[split] = {
            **binary_metrics(data.y, logits.float().cpu().numpy()),
            "n": int(len(data.y)),
        }
    if all(result[s] is None for s in splits):
        raise DataError(f"{data_dir}: none of {', '.join(splits)} has labelled pairs to evaluate")
    return result
