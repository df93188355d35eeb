"""Tiny data and tiny trained runs for the export tests (real trainer, one epoch)."""

from __future__ import annotations

from pathlib import Path

import train_fixtures

EXPORT_PLUGINS = Path(__file__).parent / "fixtures" / "export_plugins"
SMALL = {"width_mult": 0.125, "feat_dim": 8, "layers": [1]}


def small_params(arch: str) -> dict:
    """SMALL restricted to the parameters `arch` has (whatever plugin provides it)."""
    from pairzoo.plugins import catalog

    defaults = catalog().architectures[arch].params
    return {k: v for k, v in SMALL.items() if k in defaults}


def make_data(
    path: Path, n_train: int = 64, n_val: int = 24, n_test: int = 16, seed: int = 0
) -> Path:
    """Tiny `greater` data (train_fixtures' bars) whose meta.json hashes its files."""
    return train_fixtures.make_data(
        path,
        n_train,
        n_val,
        n_test,
        seed,
        hashed=True,
        pairzoo_version="test",
        created="2026-01-01T00:00:00Z",
    )


def train_tiny(
    run_dir: Path, data_dir: Path, arch: str, arch_params: dict | None = None, seed: int = 0
) -> Path:
    """One epoch of the real trainer on the tiny data; returns the run directory."""
    from pairzoo.train import train_run

    config = {
        "arch": arch,
        "arch_params": small_params(arch) if arch_params is None else arch_params,
        "loss": "bce",
        "data": str(data_dir),
        "seed": seed,
        "train": {
            "epochs": 1,
            "batch_size": 32,
            "eval_batch_size": 256,
            "augment": False,
            "patience": 0,
            "device": "cpu",
        },
    }
    train_run(config, run_dir, progress=False)
    return run_dir


_SHARED: dict = {}  # one pytest process trains each shared run once, whatever module asks first


def shared_data(factory) -> Path:
    """Tiny data shared by the export test modules (never modify it)."""
    if "data" not in _SHARED:
        _SHARED["data"] = make_data(factory.mktemp("shared-data"))
    return _SHARED["data"]


def shared_run(factory, arch: str, seed: int = 0) -> Path:
    """A tiny trained run shared by the export test modules (copy it before modifying it).

    The run is named `arch` for seed 0, else `arch-sSEED`."""
    key = (arch, seed)
    if key not in _SHARED:
        name = arch if seed == 0 else f"{arch}-s{seed}"
        run = factory.mktemp("shared-run") / name
        _SHARED[key] = train_tiny(run, shared_data(factory), arch, seed=seed)
    return _SHARED[key]
