"""Digit pretraining for data without digit labels.

The trainer teaches a tower the digits through the `digits` key of generated data (the
auxiliary loss); the original task's files have no such key, and a small model trained on them
alone learns far less in the same budget (the cpu profile's ResNet: 61% val after 3 epochs,
against 87% with a pretrained tower). So when the train split has no `digits`, each distinct
tower of the zoo (architecture and parameters) is first trained, with its model's recipe, on a
data set generated here with the same label rule, and the models start from those weights
(`train.init_from`). The generated data uses its own seed, so it shares no pairs with `make
data`'s default set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pairzoo.data.generate import DatasetSettings, make_dataset
from pairzoo.data.meta import read_meta
from pairzoo.data.npz import read_arrays
from pairzoo.zoo.spec import PRETRAIN_DIR
from pairzoo.zoo.training import Job

DATA_DIR = "data"
TOWERS_DIR = "towers"  # beside DATA_DIR, so that no model name can meet it


def wanted(settings: dict[str, Any], data_dir: Path) -> bool:
    """True when the settings allow pretraining and the train split has no digit labels."""
    if settings["pretrain"] == "off":
        return False

    return "digits" not in read_arrays(data_dir / "train.npz", ["digits"])  # reads digits only


def pretrain_data(runs_dir: Path, settings: dict[str, Any], rule: str, say) -> Path:
    """The generated data set in runs/_pretrain/data, made now unless it already matches."""
    out = runs_dir / PRETRAIN_DIR / DATA_DIR
    n = settings["pretrain_pairs"]
    sizes = {"train": n, "val": max(100, n // 10)}
    seed = settings["pretrain_seed"]
    if (out / "meta.json").exists():
        meta = read_meta(out)
        if (meta.get("sizes"), meta.get("seed"), meta.get("rule")) == (sizes, seed, rule):
            return out
    say(f"pretraining: generating {n} pairs with digit labels (rule {rule}) into {out}")
    make_dataset(out, DatasetSettings(seed=seed, sizes=sizes, rule=rule))
    return out


def pretrain_jobs(jobs: list[Job], data: Path) -> tuple[list[Job], dict[str, Job]]:
    """One pretraining job per distinct tower of `jobs`, and which one each model starts from.

    A tower is an architecture with its parameters; the first model of each is the recipe (its
    train settings and seed) that its pretraining run follows, in runs/_pretrain/towers/NAME.
    """
    towers: dict[str, Job] = {}
    of_model: dict[str, Job] = {}
    for job in jobs:
        key = json.dumps([job.config.get("arch"), job.config.get("arch_params")], sort_keys=True)
        if key not in towers:
            out = data.parent / TOWERS_DIR / job.name
            towers[key] = Job(f"{PRETRAIN_DIR}/{job.name}", {**job.config, "data": str(data)}, out)
        of_model[job.name] = towers[key]
    return list(towers.values()), of_model
