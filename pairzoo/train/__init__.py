"""Training: `train_run(config, out_dir, resume=False, progress=True) -> metrics`.

Run directories are read back with `pairzoo.train.rundir.load_run`. Submodules import torch;
this package itself does not until `train_run` is used.
"""

from __future__ import annotations

from pairzoo.train.trainer import train_run

__all__ = ["train_run"]


def __getattr__(name: str):
    if name == "train_run":
        return train_run
    raise AttributeError(f"module 'pairzoo.train' has no attribute '{name}'")
