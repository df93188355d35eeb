"""PNG plots of an evaluation (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pairzoo.atomic import atomic_open
from pairzoo.ensemble.evaluate import Evaluation
from pairzoo.metrics import to_labels

PLOTS = {
    "confusion": "confusion_matrix.png",
    "accuracy": "accuracy_bars.png",
    "importance": "feature_importance.png",
    "folds": "fold_scores.png",
}


def write_plots(ev: Evaluation, out_dir: str | Path) -> dict[str, str]:
    """Write the four plots into `out_dir`; returns {plot: file name}."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    for key, draw in (
        ("confusion", _confusion),
        ("accuracy", _accuracy_bars),
        ("importance", _importance),
        ("folds", _folds),
    ):
        fig = draw(plt, ev)
        with atomic_open(out / PLOTS[key], "wb") as fh:
            fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    return dict(PLOTS)


def _confusion(plt, ev: Evaluation):
    from sklearn.metrics import confusion_matrix

    w = ev.winner
    panels = [("val (out-of-fold)", ev.y_val, w.val_proba)]
    if w.test_proba is not None and ev.y_test is not None:
        panels.append(("test_public", ev.y_test, w.test_proba))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    for ax, (title, y, proba) in zip(axes[0], panels, strict=True):
        cm = confusion_matrix(y, to_labels(proba), labels=[0, 1])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                color="white" if v > cm.max() / 2 else "black",
            )
        ax.set(xticks=[0, 1], yticks=[0, 1], xlabel="predicted", ylabel="true", title=title)
    fig.suptitle(f"Confusion matrix: {w.name}")
    return fig


def _accuracy_bars(plt, ev: Evaluation):
    names = [r.name for r in ev.results]
    val = [100 * r.val["accuracy"] for r in ev.results]
    test = [100 * (r.test_public or {}).get("accuracy", np.nan) for r in ev.results]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
    ax.barh(y - 0.2, val, height=0.4, label="val (OOF for combiners)")
    ax.barh(y + 0.2, test, height=0.4, label="test_public")
    ax.set_yticks(
        y, [("* " if r.winner else "") + n for r, n in zip(ev.results, names, strict=True)]
    )
    ax.invert_yaxis()
    low = np.nanmin(val + test)
    ax.set_xlim(max(0.0, low - 5), 100)
    ax.set_xlabel("accuracy (%)")
    ax.legend(loc="lower right")
    ax.set_title("Single models vs ensembles")
    return fig


def _importance(plt, ev: Evaluation):
    gain = ev.stacker.final.feature_importance("gain")
    names = [m.ref for m in ev.members]
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(names) + 1.2))
    ax.barh(np.arange(len(names)), gain)
    ax.set_yticks(np.arange(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("total gain")
    ax.set_title("LightGBM meta-learner: feature importance")
    return fig


def _folds(plt, ev: Evaluation):
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in ev.results:
        if r.kind == "ensemble":
            k = np.arange(1, len(r.fold_accuracy) + 1)
            ax.plot(k, 100 * np.asarray(r.fold_accuracy), marker="o", label=r.name)
    ax.set_xticks(np.arange(1, len(ev.folds) + 1))
    ax.set_xlabel("fold")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title("Out-of-fold accuracy per fold")
    ax.legend(fontsize=7)
    return fig
