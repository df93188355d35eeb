"""A training run as a record: its settings, its val curve against training time, its digits.

`python -m pairzoo.results save run RUN_DIR` files it, for runs whose figures the docs quote,
such as the ceiling of the default data (a model trained far past the cpu profile's budget).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pairzoo.errors import DataError

FILES = ("config.json", "metrics.json", "history.json")


def run_record(run_dir: Path) -> dict[str, Any]:
    """What the run directory's config.json, metrics.json and history.json say, in one dict."""
    loaded = {}
    for name in FILES:
        path = Path(run_dir) / name
        try:
            loaded[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DataError(f"{path}: not a readable JSON file of a training run ({e})") from e
    config, metrics, history = (loaded[n] for n in FILES)
    if not metrics.get("finished"):
        raise DataError(
            f"{Path(run_dir) / 'metrics.json'}: 'finished' is not true; file a run once it ends"
        )
    digits = metrics.get("val_digits") or {}
    return {
        "name": metrics["name"],
        "arch": config["arch"],
        "arch_params": config["arch_params"],
        "train": config["train"],
        "seed": config["seed"],
        "data_fingerprint": config.get("data_fingerprint"),
        "params": metrics.get("params"),
        "macs_per_pair": metrics.get("macs_per_pair"),
        "train_dtype": metrics.get("train_dtype"),
        "train_time_s": metrics.get("train_time_s"),
        "val_accuracy": metrics["val"]["accuracy"],
        "test_public_accuracy": (metrics.get("test_public") or {}).get("accuracy"),
        "curve": [
            {k: row[k] for k in ("epoch", "time_s", "train_accuracy", "val_accuracy")}
            for row in history
        ],
        "digit_accuracy": digits.get("accuracy"),
        "digits_by_hidden": digits.get("by_hidden"),
    }
