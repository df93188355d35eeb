"""A zoo file: the models to train, their settings, and profiles that override them.

A zoo file is TOML::

    format = 1
    description = "..."
    [settings]
    min_val_accuracy = 0.55          # at or below: reported as failed to learn
    jobs = 1                         # models trained at once, one worker process each
    [ensemble]                       # stacking parameters, inference batch size and threads
    folds = 5
    [defaults]                       # run-config keys laid under every model
    loss = "bce"
    [defaults.train]
    epochs = 50
    [models.NAME]                    # one table per model, in training order
    stage = 1
    description = "..."
    arch = "resnet"
    [models.NAME.arch_params]
    layers = [2, 2, 2]
    [models.OTHER]
    start_from = "NAME"              # start from NAME's trained weights (same architecture)
    [profiles.cpu]                   # a profile: the same tables, laid over the ones above
    description = "..."
    [profiles.cpu.defaults.train]    # over every model
    epochs = 2
    [profiles.cpu.models.NAME.train] # over one model
    epochs = 3

A model's run config is ``defaults``, then its own table, then the profile's ``defaults``, then
the profile's table for it; the tables ``arch_params``, ``loss_params`` and ``train`` merge key
by key. Plugin names (architectures, losses, heads) are checked when a model trains, so a bad
one fails that model only; everything else is checked here, and errors name the file and key.

``start_from`` chains models: a model starts from another one's trained weights and trains
after it. On a budget of pairs that is a snapshot ensemble (each member resumes the learning of
the one before with a new seed, subset and learning-rate cycle): docs/training.md measures it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pairzoo.checks import Rule, check_value
from pairzoo.errors import ConfigError
from pairzoo.estimate import DEFAULT_PAIRS
from pairzoo.registry.card import check_name
from pairzoo.tomlfile import read_toml
from pairzoo.train.config import MAX_SEED, TOP_DEFAULTS, check_keys, merge, validate

FORMAT = 1
AUTO = "auto"
# Profiles a zoo file need not declare: "full" is the file's own settings.
IMPLICIT_PROFILES = ("full",)
# Names used for the zoo's own outputs in the runs directory.
PRETRAIN_DIR = "_pretrain"  # the digit pretraining's data and tower runs (pairzoo/zoo/pretrain.py)
RESERVED_NAMES = ("ensemble", PRETRAIN_DIR)
SETTINGS_DEFAULTS: dict[str, Any] = {
    "min_val_accuracy": 0.55,  # at or below: the model failed to learn
    "jobs": 1,  # models trained at once, each in its own worker process
    # minutes the training phase may take here: pairs per epoch are scaled down to fit what this
    # machine measured (pairzoo/zoo/budget.py); 0: the zoo file's pairs as they are
    "train_minutes": 0.0,
    # "auto": on data without digit labels, pretrain each tower on generated data that has
    # them (pairzoo/zoo/pretrain.py); "off": never
    "pretrain": "auto",
    "pretrain_pairs": 20000,  # train pairs of the generated pretraining data
    "pretrain_seed": 1,  # its seed: another one than `make data`'s default
}
ENSEMBLE_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "batch_size": 64,  # pairs per onnxruntime call; measured best on 2 cores (ensemble defaults)
    "threads": 1,  # onnxruntime threads per model; 0 = all cores
    "n_estimators": 100,
    "learning_rate": 0.05,
    "max_depth": 5,
    "num_leaves": 31,
    "min_child_samples": 20,
    "folds": 5,
    "seed": 42,
    "num_threads": 1,
    # generated pairs per shift for the card's label-free estimate (pairzoo.estimate); 0: none
    "estimate_pairs": DEFAULT_PAIRS,
}
# key -> the rule its value must pass, for settings and ensemble values
_RANGES: dict[str, Rule] = {
    "min_val_accuracy": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "jobs": (lambda v: v >= 1, "at least 1"),
    "train_minutes": (lambda v: v >= 0, "0 (no budget) or more"),
    "pretrain": (lambda v: v in ("auto", "off"), "'auto' or 'off'"),
    "pretrain_pairs": (lambda v: v >= 20, "at least 20"),
    "pretrain_seed": (lambda v: 0 <= v < MAX_SEED, "in [0, 2**62)"),
    "batch_size": (lambda v: v >= 1, "at least 1"),
    "threads": (lambda v: v >= 0, "0 (all cores) or more"),
    "n_estimators": (lambda v: v >= 1, "at least 1"),
    "learning_rate": (lambda v: v > 0, "positive"),
    "num_leaves": (lambda v: v >= 2, "at least 2"),
    "min_child_samples": (lambda v: v >= 1, "at least 1"),
    "folds": (lambda v: v >= 2, "at least 2"),
    "num_threads": (lambda v: v >= 1, "at least 1"),
    "estimate_pairs": (lambda v: v == 0 or v >= 20, "0 (none) or at least 20"),
}
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_TOP_KEYS = ("format", "description", "settings", "ensemble", "defaults", "models", "profiles")
_PROFILE_KEYS = ("description", "settings", "ensemble", "defaults", "models")
_MODEL_META = {"stage": 1, "description": "", "start_from": ""}
# Run-config keys a zoo may set; "name" and "data" come from the zoo and the command line.
_CONFIG_KEYS = tuple(k for k in TOP_DEFAULTS if k not in ("name", "data")) + ("train",)


@dataclass(frozen=True)
class ModelSpec:
    """One model of a zoo under one profile: its run config lacks only "data"."""

    name: str
    stage: int
    description: str
    config: dict[str, Any]
    start_from: str = ""  # the model whose trained weights this one starts from; "" = none


@dataclass(frozen=True)
class ZooSpec:
    path: str
    profile: str
    description: str
    profile_description: str
    models: list[ModelSpec]
    settings: dict[str, Any] = field(default_factory=dict)
    ensemble: dict[str, Any] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def select(self, only: list[str] | None) -> ZooSpec:
        """The same zoo with only the models named in `only` (all when empty)."""
        if not only:
            return self
        unknown = [n for n in only if n not in self.names()]
        if unknown:
            raise ConfigError(
                f"{self.path}: no model named '{unknown[0]}' (models: {', '.join(self.names())})"
            )
        models = [m for m in self.models if m.name in only]
        return ZooSpec(**{**self.__dict__, "models": models})


def builtin_zoo_path() -> Path:
    """The zoo shipped with pairzoo: the original project's eleven models."""
    return Path(str(resources.files("pairzoo.zoo") / "zoo.toml"))


def pick_profile(profile: str) -> str:
    """`auto` -> "full" when CUDA is available, else "cpu"; any other name as given."""
    if profile != AUTO:
        return profile
    import torch

    return "full" if torch.cuda.is_available() else "cpu"


def load_zoo(path: str | Path | None = None, profile: str = AUTO) -> ZooSpec:
    """Read and check a zoo file (default: the builtin one) and apply `profile`.

    `auto` picks "full" with CUDA, else "cpu" when the file declares it, else "full". Every
    profile in the file is checked, not only the chosen one. Raises ConfigError naming the file
    and the key.
    """
    path = Path(path) if path is not None else builtin_zoo_path()
    raw = read_toml(path, "zoo file")
    where = str(path)
    check_zoo(raw, where)
    profiles = raw.get("profiles", {})
    for name in profiles:
        _apply(raw, name, where)
    name = pick_profile(profile)
    if profile == AUTO and name not in profiles:
        name = "full"  # a file without a cpu profile runs as written
    if name not in profiles and name not in IMPLICIT_PROFILES:
        available = sorted(set(profiles) | set(IMPLICIT_PROFILES))
        raise ConfigError(
            f"{where}: no profile '{name}' (profiles: {', '.join(available)}, or {AUTO})"
        )
    return _apply(raw, name, where)


def check_zoo(raw: dict[str, Any], where: str) -> None:
    """The file's structure: known keys, tables where tables belong, at least one model."""
    _known(raw, _TOP_KEYS, where, "key")
    if raw.get("format", FORMAT) != FORMAT or isinstance(raw.get("format"), bool | float):
        raise ConfigError(f"{where}: key 'format' is {raw['format']!r}, expected {FORMAT}")
    _string(raw, "description", where)
    _section(raw, where, "")
    models = _table(raw, "models", where)
    if not models:
        raise ConfigError(f'{where}: no models; add a table [models.NAME] with arch = "..."')
    for name, model in models.items():
        _check_model_name(name, where)
        _check_model(model, where, f"models.{name}")
    for pname, profile in _table(raw, "profiles", where).items():
        pwhere = f"profiles.{pname}"
        if not _PROFILE_NAME.match(pname):
            raise ConfigError(
                f"{where}: profile name {pname!r:.110} is not usable: expected 1-100 letters, "
                "digits, '_', '.' or '-'"
            )
        if pname == AUTO:
            raise ConfigError(f"{where}: profile name '{AUTO}' is reserved (it picks full or cpu)")
        if not isinstance(profile, dict):
            raise ConfigError(f"{where}: key '{pwhere}' must be a table, got {profile!r:.80}")
        _known(profile, _PROFILE_KEYS, where, "key", prefix=f"{pwhere}.")
        _string(profile, "description", where, prefix=f"{pwhere}.")
        _section(profile, where, f"{pwhere}.")
        for name, model in _table(profile, "models", where, prefix=f"{pwhere}.").items():
            if name not in models:
                raise ConfigError(
                    f"{where}: key {f'{pwhere}.models.{name}'!r:.120} names no model "
                    f"(models: {', '.join(models)})"
                )
            _check_model(model, where, f"{pwhere}.models.{name}")


def _section(raw: dict, where: str, prefix: str) -> None:
    """settings, ensemble and defaults of the file or of a profile."""
    settings = _table(raw, "settings", where, prefix)
    _known(settings, SETTINGS_DEFAULTS, where, "key", prefix=f"{prefix}settings.")
    _typed(settings, SETTINGS_DEFAULTS, where, f"{prefix}settings.")
    ensemble = _table(raw, "ensemble", where, prefix)
    _known(ensemble, ENSEMBLE_DEFAULTS, where, "key", prefix=f"{prefix}ensemble.")
    _typed(ensemble, ENSEMBLE_DEFAULTS, where, f"{prefix}ensemble.")
    defaults = _table(raw, "defaults", where, prefix)
    _known(defaults, _CONFIG_KEYS, where, "key", prefix=f"{prefix}defaults.")
    check_keys(defaults, f"{where}: {prefix}defaults")


def _check_model(model: Any, where: str, key: str) -> None:
    if not isinstance(model, dict):
        raise ConfigError(f"{where}: key '{key}' must be a table, got {model!r:.80}")
    _known(model, (*_MODEL_META, *_CONFIG_KEYS), where, "key", prefix=f"{key}.")
    meta = {k: model[k] for k in _MODEL_META if k in model}
    _typed(meta, _MODEL_META, where, f"{key}.")
    if meta.get("stage", 1) < 1:
        raise ConfigError(f"{where}: key '{key}.stage' must be at least 1, got {meta['stage']!r}")
    check_keys({k: v for k, v in model.items() if k not in _MODEL_META}, f"{where}: {key}")


def _check_model_name(name: str, where: str) -> None:
    if name in RESERVED_NAMES:
        raise ConfigError(f"{where}: model name {name!r} is reserved for the zoo's own outputs")
    try:
        check_name(name)
    except Exception:
        raise ConfigError(
            f"{where}: model name {name!r:.110} is not usable: expected 1-100 letters, digits, "
            "'_', '.' or '-', starting with a letter or digit"
        ) from None


def _apply(raw: dict[str, Any], profile: str, where: str) -> ZooSpec:
    over = raw.get("profiles", {}).get(profile, {})
    models = []
    for name, model in raw["models"].items():
        mine = {k: v for k, v in model.items() if k not in _MODEL_META}
        theirs = {
            k: v for k, v in over.get("models", {}).get(name, {}).items() if k not in _MODEL_META
        }
        config = merge(
            merge(merge(raw.get("defaults", {}), mine), over.get("defaults", {})), theirs
        )
        config["name"] = name
        checked = f"{where}: models.{name} under profile '{profile}'"
        config = validate(config, checked)
        meta = {**_MODEL_META, **{k: model[k] for k in _MODEL_META if k in model}}
        meta["start_from"] = (
            over.get("models", {}).get(name, {}).get("start_from", meta["start_from"])
        )
        models.append(
            ModelSpec(name, meta["stage"], meta["description"], config, meta["start_from"])
        )
    _check_chains(models, f"{where}: profile '{profile}'")
    return ZooSpec(
        path=where,
        profile=profile,
        description=str(raw.get("description", "")),
        profile_description=str(over.get("description", "")),
        models=models,
        settings={**SETTINGS_DEFAULTS, **raw.get("settings", {}), **over.get("settings", {})},
        ensemble={**ENSEMBLE_DEFAULTS, **raw.get("ensemble", {}), **over.get("ensemble", {})},
    )


def _check_chains(models: list[ModelSpec], where: str) -> None:
    """Each `start_from` names another model of the same architecture (and parameters, unless
    the model's train.init_strict is false), and no chain loops."""
    by_name = {m.name: m for m in models}
    for m in models:
        if not m.start_from:
            continue
        key = f"models.{m.name}.start_from"
        parent = by_name.get(m.start_from)
        if parent is None or parent is m:
            raise ConfigError(
                f"{where}: key '{key}' is {m.start_from!r:.110}, expected another model's name "
                f"(models: {', '.join(n for n in by_name if n != m.name)})"
            )
        strict = m.config.get("train", {}).get("init_strict", True)
        mine, theirs = _weights_shape(m.config, strict), _weights_shape(parent.config, strict)
        if mine != theirs:
            raise ConfigError(
                f"{where}: key '{key}': {parent.name} is {theirs}, {m.name} is {mine}; a model "
                "starts only from weights of its own architecture"
                + (" and parameters (train.init_strict = false loosens that)" if strict else "")
            )
    for m in models:
        seen, at = [m.name], m
        while at.start_from:
            at = by_name[at.start_from]
            if at.name in seen:
                raise ConfigError(
                    f"{where}: key 'models.{m.name}.start_from' makes a loop: "
                    + " -> ".join([*seen, at.name])
                )
            seen.append(at.name)


def _weights_shape(config: dict[str, Any], with_params: bool = True) -> str:
    """What decides a model's weights' names and shapes: its architecture and parameters."""
    if not with_params:
        return str(config.get("arch"))
    params = ", ".join(f"{k}={v}" for k, v in sorted(config.get("arch_params", {}).items()))
    return f"{config.get('arch')} ({params})"


def _table(raw: dict, key: str, where: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: key {prefix + key!r} must be a table, got {value!r:.80}")
    return value


def _known(raw: dict, known, where: str, what: str, prefix: str = "") -> None:
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{where}: unknown {what} {prefix + key!r} (known: {', '.join(known)})"
            )


def _string(raw: dict, key: str, where: str, prefix: str = "") -> None:
    if key in raw and not isinstance(raw[key], str):
        raise ConfigError(f"{where}: key {prefix + key!r} must be a string, got {raw[key]!r:.80}")


def _typed(raw: dict, defaults: dict, where: str, prefix: str) -> None:
    for key, value in raw.items():
        check_value(f"{where}: key {prefix + key!r}", defaults[key], value, _RANGES.get(key))
