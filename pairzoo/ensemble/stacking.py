"""The LightGBM meta-learner: base-model logits in, probability of label 1 out.

Seeded and deterministic (``deterministic=True``, fixed ``num_threads``, row-wise histograms), so
the same logits and labels give the same trees byte for byte. The fitted booster is saved as
LightGBM text (``save_model``), never pickled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.atomic import write_text
from pairzoo.errors import ConfigError


@dataclass(frozen=True)
class StackingParams:
    """Meta-learner settings; the defaults are the original project's."""

    n_estimators: int = 100
    learning_rate: float = 0.05
    max_depth: int = 5
    num_leaves: int = 31
    min_child_samples: int = 20
    folds: int = 5
    seed: int = 42
    num_threads: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(
                    f"stacking parameter {f.name!r} must be a number, found {value!r}"
                )
        if self.n_estimators < 1 or self.num_leaves < 2 or self.learning_rate <= 0:
            raise ConfigError(
                "stacking parameters need n_estimators >= 1, num_leaves >= 2, learning_rate > 0; "
                f"found {self.n_estimators}, {self.num_leaves}, {self.learning_rate}"
            )
        if self.num_threads < 1:
            raise ConfigError(
                f"stacking parameter 'num_threads' must be >= 1, found {self.num_threads}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StackingParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown stacking parameter {unknown[0]!r} (available: {', '.join(sorted(known))})"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "seed": self.seed,
            "num_threads": self.num_threads,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }


class LGBMStacker:
    """LightGBM on the (pairs x models) logit matrix."""

    name = "stacking (LightGBM)"

    def __init__(self, params: StackingParams | None = None):
        self.params = params or StackingParams()
        self.booster = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> LGBMStacker:
        import lightgbm as lgb

        names = feature_names(X.shape[1])
        data = lgb.Dataset(
            np.asarray(X, dtype=np.float64),
            label=np.asarray(y),
            feature_name=names,
            params={"verbosity": -1},
            free_raw_data=True,
        )
        self.booster = lgb.train(
            self.params.lgb_params(), data, num_boost_round=self.params.n_estimators
        )
        self.members_used = list(range(X.shape[1]))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return predict_booster(self.booster, X, self.params.num_threads)

    def feature_importance(self, kind: str = "gain") -> np.ndarray:
        return np.asarray(self.booster.feature_importance(importance_type=kind), dtype=np.float64)

    def save(self, path: str | Path) -> None:
        write_text(path, self.booster.model_to_string())


def feature_names(n: int) -> list[str]:
    return [f"m{i}" for i in range(n)]


def predict_booster(booster: Any, X: np.ndarray, num_threads: int = 1) -> np.ndarray:
    """Probability of label 1 from a LightGBM booster (raw text-loaded or freshly trained)."""
    return np.asarray(
        booster.predict(np.asarray(X, dtype=np.float64), num_threads=num_threads), dtype=np.float64
    )


def load_booster(path: str | Path) -> Any:
    """A booster from LightGBM's text format."""
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))
