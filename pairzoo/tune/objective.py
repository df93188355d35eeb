"""One trial: a config from the trial's parameters, trained by the normal trainer into its own run
directory, with each epoch's val accuracy reported so the pruner can stop it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.errors import PairzooError
from pairzoo.train import train_run
from pairzoo.tune.space import Dim, apply_params


def trial_dir_name(number: int) -> str:
    return f"trial-{number:04d}"


def make_objective(
    base: dict[str, Any], dims: list[Dim], fixed: dict[str, Any], trials_dir: Path, name: str
):
    """The function `study.optimize` calls: returns the best epoch's val accuracy."""

    def objective(trial) -> float:
        import optuna

        values = {**fixed, **{d.key: d.suggest(trial) for d in dims}}
        config = apply_params(base, values)
        config["name"] = f"{name}-{trial_dir_name(trial.number)}"
        out = trials_dir / trial_dir_name(trial.number)

        def on_epoch(row: dict) -> None:
            trial.report(float(row["val_accuracy"]), int(row["epoch"]))
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {row['epoch']}")

        try:
            metrics = train_run(config, out, progress=False, on_epoch=on_epoch)
        except PairzooError as exc:
            trial.set_user_attr("error", str(exc))
            raise
        trial.set_user_attr("best_epoch", metrics["best_epoch"])
        if metrics.get("test_public"):
            trial.set_user_attr("test_public_accuracy", metrics["test_public"]["accuracy"])
        return float(metrics["val"]["accuracy"])

    return objective
