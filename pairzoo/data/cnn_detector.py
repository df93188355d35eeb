"""The classifier two-sample test's image detector: a small CNN trained for a fixed number of
epochs (no epoch is chosen on the images it scores), one torch generator per fit."""

from __future__ import annotations

import numpy as np

__all__ = ["cnn_fit_predict", "cnn_inputs"]

_BATCH = 64


def cnn_inputs(images: np.ndarray):
    """uint8 images (M, 28, 28) as the CNN's float tensor (M, 1, 28, 28) in 0..1."""
    import torch

    return torch.from_numpy(np.asarray(images).astype(np.float32) / 255.0).unsqueeze(1)


def cnn_fit_predict(fit_x, fit_y: np.ndarray, held_x, *, seed: int, epochs: int) -> np.ndarray:
    """Held-out P(from B) of `held_x` (rows of cnn_inputs) from a CNN fitted to the others."""
    return _predict(_fit(fit_x, fit_y, seed=seed, epochs=epochs), held_x)


def _network():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 64),
        nn.ReLU(),
        nn.Linear(64, 1),
    )


def _fit(x, y: np.ndarray, *, seed: int, epochs: int):
    import torch

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = _network()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t = torch.from_numpy(y.astype(np.float32))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), _BATCH):
            idx = order[start : start + _BATCH]
            opt.zero_grad()
            loss_fn(model(x[idx]).squeeze(1), t[idx]).backward()
            opt.step()
    return model.eval()


def _predict(model, x) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.sigmoid(model(x).squeeze(1)).numpy().astype(np.float64)
