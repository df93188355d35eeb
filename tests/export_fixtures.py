"""Tiny data and tiny trained runs for the export tests (real trainer, one epoch)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

EXPORT_PLUGINS = Path(__file__).parent / "fixtures" / "export_plugins"
SMALL = {"width_mult": 0.125, "feat_dim": 8, "layers": [1]}


def small_params(arch: str) -> dict:
    """SMALL restricted to the parameters `arch` has (whatever plugin provides it)."""
    from pairzoo.plugins import catalog

    defaults = catalog().architectures[arch].params
    return {k: v for k, v in SMALL.items() if k in defaults}


def _images(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28): digit d as a bright bar of height 2d + 4 over background noise."""
    img = rng.integers(0, 20, size=(len(digits), 28, 28))
    rows = np.arange(28)[None, :, None]
    cols = np.arange(28)[None, None, :]
    top = 26 - (2 * digits + 4)[:, None, None]
    img = np.where((rows >= top) & (rows < 26) & (cols >= 10) & (cols < 18), 200, img)
    return img.astype(np.uint8)


def make_data(
    path: Path, n_train: int = 64, n_val: int = 24, n_test: int = 16, seed: int = 0
) -> Path:
    """A data directory in the pair format with the `greater` rule and a meta.json."""
    from pairzoo.data.format import save_split

    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = {"train": n_train, "val": n_val, "test_public": n_test}
    for split, n in sizes.items():
        left = rng.integers(0, 10, size=n)
        right = (left + rng.integers(1, 10, size=n)) % 10
        x = np.concatenate([_images(rng, left), _images(rng, right)], axis=2)
        y = (left > right).astype(np.int64)
        ids = np.array([f"{split[:3].upper()}_{i:07d}" for i in range(n)])
        if split == "test_public":
            save_split(path / f"{split}.npz", x, ids)
            rows = "".join(f"{i},{label}\n" for i, label in zip(ids, y, strict=True))
            (path / "test_public_labels.csv").write_text("id,label\n" + rows)
        else:
            save_split(path / f"{split}.npz", x, ids, y=y, digits=np.stack([left, right], 1))
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.iterdir())
        if p.name != "meta.json"
    }
    meta = {
        "format": 1,
        "source": "synthetic-test",
        "seed": seed,
        "severity": 0,
        "rule": "greater",
        "adjacent": 0.0,
        "sizes": sizes,
        "files": files,
        "pairzoo_version": "test",
        "created": "2026-01-01T00:00:00Z",
    }
    (path / "meta.json").write_text(json.dumps(meta))
    return path


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
