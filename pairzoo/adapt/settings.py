"""What one `pairzoo adapt` is asked to do, as frozen values checked once.

Kept free of torch so the command line can build them before any heavy import. `AdaptSettings`
is what the adaptation key hashes (and its report records); `AdaptJob` adds the files, folders
and threads, which name where the work happens but not what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pairzoo.errors import ConfigError

BN_MODES = ("source", "mixed", "target")


@dataclass(frozen=True)
class FinetuneSettings:
    epochs: float = 1.0  # passes over the pseudo-labelled pairs
    batch_size: int = 128  # pairs of each kind per step
    lr: float = 1e-3  # decays linearly to 0
    swap_weight: float = 1.0
    bn: str = "source"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AdaptSettings:
    rounds: int = 1
    threshold: float = 0.9
    finetune: FinetuneSettings = field(default_factory=FinetuneSettings)
    generated: int = 0  # labelled pairs made at the severity matched to the target; 0: none

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ConfigError(f"--rounds must be at least 1, found {self.rounds}")
        if not 0.5 <= self.threshold < 1.0:
            raise ConfigError(f"--threshold must be in [0.5, 1), found {self.threshold}")
        if self.generated < 0:
            raise ConfigError(f"--generated must be at least 0, found {self.generated}")
        if self.finetune.bn not in BN_MODES:
            raise ConfigError(
                f"--bn must be one of {', '.join(BN_MODES)}, found {self.finetune.bn!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "threshold": self.threshold,
            **self.finetune.to_dict(),
            **({"generated": self.generated} if self.generated else {}),
        }


@dataclass(frozen=True)
class AdaptJob:
    unlabelled: tuple[str, ...]  # pair files (.npz, keys x and id) to adapt to
    data_dir: str  # labelled data (train, val)
    out_root: str  # work directories go in OUT/NAME-KEY/
    ensemble: str | None = None  # NAME[@VERSION]; None: the latest
    settings: AdaptSettings = field(default_factory=AdaptSettings)
    score: tuple[str, ...] = ()  # labelled files scored before and after, never used for a choice
    threads: int = 0  # 0: all cores
