"""A PNG grid of pairs with their ids and labels (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

import io
import math
import os

from pairzoo.atomic import write_bytes
from pairzoo.data.format import PairSplit

__all__ = ["render_pairs"]


def render_pairs(split: PairSplit, out: str | os.PathLike, n: int = 32, cols: int = 4) -> int:
    """Draw the first `n` pairs of `split` into the PNG `out`; returns how many were drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, min(n, len(split)))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(cols * 2.4, rows * 1.45), dpi=100)
    FigureCanvasAgg(fig)
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(split.x[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.axvline(27.5, color="tab:red", linewidth=0.6)
        ax.set_title(_caption(split, i), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_bytes(out, buf.getvalue())
    return n


def _caption(split: PairSplit, i: int) -> str:
    parts = [str(split.ids[i])]
    if split.y is not None:
        parts.append(f"label {int(split.y[i])}")
    if split.digits is not None:
        parts.append(f"{split.digits[i, 0]} vs {split.digits[i, 1]}")
    return "  ".join(parts)
