"""A classifier two-sample test: can a small CNN tell the digit images of set A from set B?

Per-image statistics can agree while the images still differ in ways a model learns (noise
texture, stroke shape, where digits sit). This test asks a small CNN to tell the two sets apart:
accuracy near 50% means the sets stand in for each other; far above, they do not.

Both sides are cut to the same number of images, drawn at random. The images are split into
`folds` stratified parts; for each, the CNN trains on the others and scores the held-out part
(cross-fitting), so every image gets exactly one held-out score and the test uses all of them.
Everything is seeded: equal inputs and seed give equal figures on the same machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TwoSampleResult", "two_sample_test"]

_BATCH = 64
_BOOTSTRAP = 1000


@dataclass(frozen=True)
class TwoSampleResult:
    n_per_side: int
    accuracy: float
    accuracy_ci: tuple[float, float]  # 95%, Wilson
    roc_auc: float
    roc_auc_ci: tuple[float, float]  # 95%, bootstrap percentile
    scores: np.ndarray  # held-out P(image is from B), A's images then B's
    images: np.ndarray  # uint8 (2n, 28, 28): the images scored, A's first

    def to_json(self) -> dict:
        return {
            "n_per_side": self.n_per_side,
            "accuracy": self.accuracy,
            "accuracy_ci95": list(self.accuracy_ci),
            "roc_auc": self.roc_auc,
            "roc_auc_ci95": list(self.roc_auc_ci),
        }


def two_sample_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    seed: int = 0,
    max_per_side: int = 4000,
    folds: int = 2,
    epochs: int = 16,
) -> TwoSampleResult:
    """Held-out accuracy and ROC-AUC of a small CNN telling uint8 images `a` from `b` (M, 28, 28)."""
    from scipy.stats import binomtest
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), max_per_side)
    if n < 2 * folds:
        raise ValueError(f"two-sample test needs at least {2 * folds} images per side, got {n}")
    images = np.concatenate([_draw(a, n, rng), _draw(b, n, rng)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), n)
    scores = np.empty(2 * n, dtype=np.float64)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (fit_idx, held_idx) in enumerate(split.split(images, y)):
        model = _fit(images[fit_idx], y[fit_idx], seed=seed + k, epochs=epochs)
        scores[held_idx] = _predict(model, images[held_idx])
    correct = int(((scores > 0.5) == y).sum())
    ci = binomtest(correct, len(y)).proportion_ci(0.95, method="wilson")
    auc, auc_ci = _auc_with_ci(y, scores, rng)
    return TwoSampleResult(
        n, correct / len(y), (float(ci.low), float(ci.high)), auc, auc_ci, scores, images
    )


def _draw(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(images)[np.sort(rng.choice(len(images), size=n, replace=False))]


def _auc_with_ci(
    y: np.ndarray, scores: np.ndarray, rng: np.random.Generator
) -> tuple[float, tuple[float, float]]:
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, scores))
    pos, neg = scores[y == 1], scores[y == 0]
    # Every bootstrap resample at once, by the rank-sum form of the AUC (ties count half).
    drawn = np.concatenate(
        [
            pos[rng.integers(len(pos), size=(_BOOTSTRAP, len(pos)))],
            neg[rng.integers(len(neg), size=(_BOOTSTRAP, len(neg)))],
        ],
        axis=1,
    )
    pos_ranks = rankdata(drawn, axis=1)[:, : len(pos)].sum(axis=1)
    boots = (pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    low, high = np.percentile(boots, [2.5, 97.5])
    return auc, (float(low), float(high))


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


def _tensor(images: np.ndarray):
    import torch

    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)


def _fit(images: np.ndarray, y: np.ndarray, *, seed: int, epochs: int):
    import torch

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = _network()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t = _tensor(images), torch.from_numpy(y.astype(np.float32))
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


def _predict(model, images: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.sigmoid(model(_tensor(images)).squeeze(1)).numpy().astype(np.float64)
