"""The run configuration as a typed tree (model, loss, train, data), built from a checked config
dict; ``to_dict()`` gives back that dict, key for key in the order ``config.json`` holds it, so
run directories written before resume and their config hashes stay the same."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from pairzoo.train.config import config_hash, validate

__all__ = ["DataConfig", "LossConfig", "ModelConfig", "RunConfig", "TrainConfig"]


@dataclass(frozen=True)
class ModelConfig:
    arch: str
    params: dict[str, Any]  # the architecture's parameters (all of them, once resolved)


@dataclass(frozen=True)
class LossConfig:
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class TrainConfig:
    """The ``[train]`` table; see `pairzoo.train.config.TRAIN_DEFAULTS` for what each key does."""

    epochs: int
    batch_size: int
    eval_batch_size: int
    lr: float
    weight_decay: float
    schedule: str
    patience: int
    label_smoothing: float
    grad_clip: float
    accum_steps: int
    aux_weight: float
    subset: int
    subset_mode: str
    pairs: str
    augment: bool
    rotate: float
    translate: float
    crop_scale: tuple[float, float]
    swap: bool
    amp: bool
    device: str
    threads: int
    init_from: str
    init_strict: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "crop_scale": list(self.crop_scale)}


@dataclass(frozen=True)
class DataConfig:
    path: str  # the data directory
    rule: str  # the label rule; "" until resolved (then the data's meta.json's, or the default)
    fingerprint: str | None = None  # set when resolved: what the run trained on


@dataclass(frozen=True)
class RunConfig:
    name: str
    seed: int
    model: ModelConfig
    loss: LossConfig
    train: TrainConfig
    data: DataConfig
    init_sha256: str | None = None  # of train.init_from's weights, set when resolved
    provenance: dict[str, Any] | None = None  # which plugin gave each item, set when resolved

    @classmethod
    def from_dict(cls, config: dict[str, Any], where: str = "config") -> RunConfig:
        """Checked and completed with defaults; ConfigError naming `where` and the key."""
        c = validate(config, where)
        train = {f.name: c["train"][f.name] for f in fields(TrainConfig)}
        return cls(
            name=c["name"],
            seed=c["seed"],
            model=ModelConfig(c["arch"], dict(c["arch_params"])),
            loss=LossConfig(c["loss"], dict(c["loss_params"])),
            train=TrainConfig(**{**train, "crop_scale": tuple(train["crop_scale"])}),
            data=DataConfig(c["data"], c["rule"], c.get("data_fingerprint")),
            init_sha256=c.get("init_sha256"),
            provenance=c.get("provenance"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config dict, as written to config.json and model.pt."""
        out: dict[str, Any] = {
            "name": self.name,
            "arch": self.model.arch,
            "arch_params": dict(self.model.params),
            "loss": self.loss.name,
            "loss_params": dict(self.loss.params),
            "rule": self.data.rule,
            "data": self.data.path,
            "seed": self.seed,
            "train": self.train.to_dict(),
        }
        outputs = {
            "data_fingerprint": self.data.fingerprint,
            "init_sha256": self.init_sha256,
            "provenance": self.provenance,
        }
        out.update({k: v for k, v in outputs.items() if v is not None})
        return out

    def hash(self) -> str:
        """sha256 of what the run learns from; see `pairzoo.train.config.config_hash`."""
        return config_hash(self.to_dict())
