"""How hard `pairzoo data compare` looks: one frozen settings object, checked once."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SETTINGS", "RealismSettings"]


@dataclass(frozen=True)
class RealismSettings:
    folds: int = 10  # cross-fitting: each model learns from (folds - 1) / folds of the images
    repeats: int = 2  # splits and model seeds per detector; the accuracy is their mean
    epochs: int = 8  # of the CNN, fixed: no epoch is chosen on the scored images
    max_per_side: int = 4000  # digit images per side, at most
    curve: tuple[float, ...] = (0.25, 0.5)  # fractions of the sample for the learning curve

    def __post_init__(self) -> None:
        if self.folds < 2 or self.repeats < 1 or self.epochs < 1 or self.max_per_side < 1:
            raise ValueError(f"realism settings out of range: {self}")
        if not all(0 < f < 1 for f in self.curve):
            raise ValueError(f"learning-curve fractions must lie in (0, 1), got {self.curve}")


DEFAULT_SETTINGS = RealismSettings()
