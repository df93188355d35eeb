"""Learning curves as PNG (matplotlib, Agg): one per model and one for the whole zoo.

A figure costs about half a second to draw, and a rerun of train-all keeps most models: each PNG
carries a digest of what it shows (names, the plotted history, the floor) in a text chunk, and is
drawn again only when that digest changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pairzoo.atomic import atomic_open
from pairzoo.zoo.runner import ModelOutcome

MODEL_PNG = "curves.png"
ZOO_PNG = "zoo_curves.png"
DIGEST_KEY = "pairzoo-curves"
LAYOUT = 1  # raise when the drawing changes, so every PNG is drawn again
_PLOTTED = ("epoch", "train_accuracy", "val_accuracy", "train_loss", "val_loss")


def write_curves(
    outcomes: list[ModelOutcome], runs_dir: str | Path, floor: float
) -> dict[str, str]:
    """Write each model's curves into its run directory and the zoo's into `runs_dir`.

    Returns {name: path relative to `runs_dir`} for the plots written ("zoo" for the zoo's).
    """
    runs = Path(runs_dir)
    written: dict[str, str] = {}
    with_history = [m for m in outcomes if m.history]
    for m in with_history:
        _draw_if_changed(m.run_dir / MODEL_PNG, _model_figure, [m], floor)
        written[m.name] = f"{m.run_dir.name}/{MODEL_PNG}"
    if with_history:
        _draw_if_changed(runs / ZOO_PNG, _zoo_figure, with_history, floor)
        written = {"zoo": ZOO_PNG, **written}
    return written


def _draw_if_changed(path: Path, figure, outcomes: list[ModelOutcome], floor: float) -> None:
    digest = _digest(figure.__name__, outcomes, floor)
    if _stored_digest(path) == digest:
        return
    plt = _pyplot()
    fig = figure(plt, outcomes, floor)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100, metadata={DIGEST_KEY: digest})
    plt.close(fig)


def _pyplot():
    """matplotlib's pyplot on the Agg backend, imported only when a figure is drawn (~1 s)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _digest(kind: str, outcomes: list[ModelOutcome], floor: float) -> str:
    """sha256 of everything a figure shows: its kind, the models' names and plotted history."""
    shown = [[m.name, [[row.get(k) for k in _PLOTTED] for row in m.history]] for m in outcomes]
    text = json.dumps([LAYOUT, kind, floor, shown], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_digest(path: Path) -> str | None:
    """The digest a PNG was drawn from; None when it is missing, unreadable or has none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.text.get(DIGEST_KEY)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        return None


def _model_figure(plt, outcomes: list[ModelOutcome], floor: float):
    (m,) = outcomes
    epochs = [r["epoch"] for r in m.history]
    fig, (acc, loss) = plt.subplots(1, 2, figsize=(9, 3.4))
    acc.plot(epochs, [100 * r["train_accuracy"] for r in m.history], "o-", label="train")
    acc.plot(epochs, [100 * r["val_accuracy"] for r in m.history], "o-", label="val")
    acc.axhline(100 * floor, color="grey", linestyle=":", label="learning floor")
    acc.set(xlabel="epoch", ylabel="accuracy %", title=f"{m.name}: accuracy")
    acc.legend(fontsize=8)
    loss.plot(epochs, [r["train_loss"] for r in m.history], "o-", label="train (with aux)")
    loss.plot(epochs, [r["val_loss"] for r in m.history], "o-", label="val")
    loss.set(xlabel="epoch", ylabel="loss", title=f"{m.name}: loss")
    loss.legend(fontsize=8)
    for ax in (acc, loss):
        _epoch_axis(ax)
    fig.tight_layout()
    return fig


def _zoo_figure(plt, outcomes: list[ModelOutcome], floor: float):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.get_cmap("tab20").colors  # eleven models need more than ten colours
    for i, m in enumerate(outcomes):
        ax.plot(
            [r["epoch"] for r in m.history],
            [100 * r["val_accuracy"] for r in m.history],
            "o-",
            markersize=3,
            color=colours[i % len(colours)],
            label=m.name,
        )
    ax.axhline(100 * floor, color="grey", linestyle=":", label="learning floor")
    ax.set(xlabel="epoch", ylabel="val accuracy %", title="zoo: validation accuracy per epoch")
    _epoch_axis(ax)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def _epoch_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
