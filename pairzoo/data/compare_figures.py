"""The two PNGs of `pairzoo data compare`: the halves the classifier finds most typical of each
side, and random halves of each side, one side per block of rows (matplotlib's Agg canvas)."""

from __future__ import annotations

import io
import os

import numpy as np

from pairzoo.atomic import write_bytes
from pairzoo.data.two_sample import TwoSampleResult

__all__ = ["render_random", "render_typical"]

COLS = 8
ROWS = 2  # per side


def render_typical(result: TwoSampleResult, names: tuple[str, str], out: str | os.PathLike) -> None:
    """The A halves with the lowest held-out P(from B) and the B halves with the highest."""
    n = result.n_per_side
    a_scores, b_scores = result.scores[:n], result.scores[n:]
    k = min(COLS * ROWS, n)
    a_idx = np.argsort(a_scores, kind="stable")[:k]
    b_idx = np.argsort(-b_scores, kind="stable")[:k]
    title = (
        f"most typical of each side to the classifier (accuracy {result.accuracy:.1%}, "
        f"ROC-AUC {result.roc_auc:.3f}); caption: held-out P(from B)"
    )
    blocks = [
        (f"A: {names[0]}", result.images[a_idx], [f"{s:.2f}" for s in a_scores[a_idx]]),
        (f"B: {names[1]}", result.images[n + b_idx], [f"{s:.2f}" for s in b_scores[b_idx]]),
    ]
    _render(title, blocks, out)


def render_random(
    a: np.ndarray, b: np.ndarray, names: tuple[str, str], out: str | os.PathLike, seed: int
) -> None:
    """A few halves of each side drawn at random (seeded), for the eye to compare."""
    rng = np.random.default_rng(seed)
    blocks = []
    for side, images, name in (("A", a, names[0]), ("B", b, names[1])):
        idx = np.sort(rng.choice(len(images), size=min(COLS * ROWS, len(images)), replace=False))
        blocks.append((f"{side}: {name}", images[idx], None))
    _render(f"random digit images of each side (seed {seed})", blocks, out)


def _render(title: str, blocks: list, out: str | os.PathLike) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(
        figsize=(COLS * 1.2, len(blocks) * (ROWS * 1.35 + 0.3) + 0.3), dpi=100, layout="constrained"
    )
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=8)
    subfigs = fig.subfigures(len(blocks), 1, hspace=0.04)
    for sub, (heading, images, captions) in zip(subfigs, blocks, strict=True):
        sub.suptitle(heading, fontsize=8, x=0.01, ha="left")
        axes = sub.subplots(ROWS, COLS, squeeze=False)
        for i, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if i < len(images):
                ax.imshow(images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
                if captions is not None:
                    ax.set_title(captions[i], fontsize=6, pad=2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_bytes(out, buf.getvalue())
