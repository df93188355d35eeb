"""Helpers for ensemble tests: synthetic pair data and tiny torch pair models in ONNX.

The label is "the left image is brighter than the right" with some label noise; each tiny model
sees brightness through a small random conv, so members differ and a stacker has work to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_pairs(
    n: int, seed: int, noise: float = 0.1, gap: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x uint8 (n, 28, 56), y int64 (n,), ids str (n,).

    `gap` > 0: the two halves' mean levels differ by at least `gap`, so with `noise` 0 every
    pair lies far from the decision boundary."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(40, 80, (n, 2))
    if gap > 0:
        offset = rng.choice([-1.0, 1.0], n) * rng.uniform(gap, gap + 20, n)
        level[:, 1] = level[:, 0] + offset
    halves = [rng.normal(level[:, k, None, None], 30, (n, 28, 28)) for k in (0, 1)]
    x = np.concatenate(halves, axis=2).clip(0, 255).astype(np.uint8)
    brightness = x[:, :, :28].mean(axis=(1, 2)) - x[:, :, 28:].mean(axis=(1, 2))
    y = (brightness + rng.normal(0, noise * 40, n) > 0).astype(np.int64)
    ids = np.array([f"PUB_{i:07d}" for i in range(n)])
    return x, y, ids


def tiny_torch_onnx(path: Path, seed: int, channels: int = 4) -> Path:
    """A tiny siamese conv pair model exported by torch.onnx (opset 17, batch axis dynamic)."""
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            g = torch.Generator().manual_seed(seed)
            self.conv = nn.Conv2d(1, channels, 3, stride=2)
            self.fc = nn.Linear(channels, 1)
            # each model looks at its own random fifth of the pixels, so members err differently
            self.register_buffer("mask", (torch.rand(1, 1, 28, 28, generator=g) < 0.2).float())
            with torch.no_grad():
                self.conv.weight.copy_(0.2 + 0.3 * torch.rand(self.conv.weight.shape, generator=g))
                self.conv.bias.zero_()
                self.fc.weight.copy_(torch.rand(self.fc.weight.shape, generator=g) * 4 + 1)
                self.fc.bias.copy_(torch.randn(1, generator=g) * 0.05)

        def embed(self, x):
            return torch.relu(self.conv(x * self.mask)).mean(dim=(2, 3))

        def forward(self, xa, xb):
            return self.fc(self.embed(xa) - self.embed(xb)).squeeze(1) * 2

    model = Tiny().eval()
    xa = torch.rand(2, 1, 28, 28)
    torch.onnx.export(
        model,
        (xa, xa),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["xa", "xb"],
        output_names=["logit"],
        dynamic_axes={"xa": {0: "N"}, "xb": {0: "N"}, "logit": {0: "N"}},
    )
    return path


def register_tiny_models(reg, tmp: Path, n: int = 3) -> list[dict]:
    cards = []
    for i in range(n):
        src = tiny_torch_onnx(tmp / f"tiny{i}.onnx", seed=i)
        card = {
            "onnx": "model.onnx",
            "macs_per_pair": 2000,
            "metrics": {"val": None, "test_public": None},
        }
        cards.append(reg.add_entry(f"tiny{i}", "model", {"model.onnx": src}, card))
    return cards


def make_data_dir(path: Path, n_val: int = 400, n_test: int = 200, labels: bool = True) -> Path:
    """val.npz and test_public.npz (+ test_public_labels.csv) of synthetic pairs."""
    from pairzoo.data.format import save_split
    from pairzoo.data.labels_csv import write_labels

    path.mkdir(parents=True, exist_ok=True)
    x, y, _ = make_pairs(n_val, seed=11)
    save_split(path / "val.npz", x, np.array([f"VAL_{i:07d}" for i in range(n_val)]), y=y)
    xt, yt, ids = make_pairs(n_test, seed=12)
    save_split(path / "test_public.npz", xt, ids)
    if labels:
        write_labels(path / "test_public_labels.csv", ids, yt)
    return path


def build_stacked(tmp: Path, n_models: int = 3):
    """A registry of `n_models` tiny models plus a data dir and an ensemble entry 'stack'."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, n_models)
    data = make_data_dir(tmp / "data")
    run = run_ensemble_eval(
        reg,
        EvalSettings(data, tmp / "report", params=StackingParams(n_estimators=30), name="stack"),
    )
    return reg, data, run
