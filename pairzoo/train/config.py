"""Run configuration: defaults, TOML files, command-line overrides, validation and the config hash.

A config is a plain dict, the same shape in a TOML file, in ``config.json`` and in ``model.pt``::

    name = "resnet-a"          # run name (defaults to the output folder's name)
    arch = "resnet"            # architecture, looked up through the plugin manager
    loss = "bce"
    rule = ""                  # label rule; empty = the data's meta.json (default "greater")
    data = "data"
    seed = 42
    [arch_params]              # plugin parameters; defaults are filled in by `resolve`
    layers = [2, 2, 2]
    [loss_params]
    [train]                    # see TRAIN_DEFAULTS
    epochs = 20
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pairzoo.checks import Rule, check_rule, check_type, finite_float
from pairzoo.errors import ConfigError
from pairzoo.tomlfile import read_table

SCHEDULES = ("onecycle", "cosine", "plateau", "constant")
DEVICES = ("auto", "cpu", "cuda")
SUBSET_MODES = ("first", "random")
PAIRS = ("fixed", "fresh", "auto")
MAX_SEED = 2**62  # numpy refuses negative seeds; the loaders add offsets to it
_SEED: Rule = (lambda v: 0 <= v < MAX_SEED, "in [0, 2**62)")

TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 20,
    "batch_size": 64,
    "eval_batch_size": 1024,
    "lr": 1e-3,  # peak learning rate for one-cycle
    "weight_decay": 5e-4,
    "schedule": "onecycle",
    "patience": 5,  # epochs without a better validation accuracy before stopping; 0 = never stop
    "label_smoothing": 0.0,
    "grad_clip": 5.0,  # max gradient norm; 0 = no clipping
    "accum_steps": 1,
    "aux_weight": 0.3,  # weight of the digit loss when the data has digits and the model forward_aux
    "subset": 0,  # train on N pairs only; 0 = all
    "subset_mode": "first",
    # "fresh": new corrupted pairs every epoch from the train split's source digits (generated
    # data only); "auto": fresh where the data allows, else fixed; "fixed": train.npz as it is
    "pairs": "fixed",
    "augment": True,  # rotation, translation and resized crop, one affine per pair
    "rotate": 15.0,  # degrees
    "translate": 0.1,  # fraction of the image size
    "crop_scale": [0.9, 1.0],  # area fraction of the resized crop
    "swap": True,  # swap a and b with probability 0.5, label per the rule's on_swap
    "amp": True,  # mixed precision on CUDA (bf16 where supported); always off on CPU
    "device": "auto",
    "threads": 0,  # torch CPU threads; 0 = the cores this process may use
    "init_from": "",  # start from these weights (a run directory or its model.pt); "" = random
    # true: init_from's weights must fit the model exactly; false: those whose name and shape
    # fit are loaded, the others (e.g. other fusion heads) start from their initialisation
    "init_strict": True,
}
TOP_DEFAULTS: dict[str, Any] = {
    "name": "",
    "arch": "resnet",
    "arch_params": {},
    "loss": "bce",
    "loss_params": {},
    "rule": "",
    "data": "data",
    "seed": 42,
}
# Keys that change how fast or where a run goes, not what it learns: left out of the hash.
_RUNTIME_KEYS = ("device", "threads", "eval_batch_size")
# Paths left out of the hash: what they point at is hashed instead (data_fingerprint, init_sha256).
_PATH_KEYS = ("init_from",)
_UNHASHED = ("name", "data", "provenance")
_OUTPUT_KEYS = ("data_fingerprint", "provenance", "init_sha256")


def default_config() -> dict[str, Any]:
    config = json.loads(json.dumps(TOP_DEFAULTS))
    config["train"] = json.loads(json.dumps(TRAIN_DEFAULTS))
    return config


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a config file (TOML, or the JSON of a run's config.json) and check it: every key
    known, every value of the right type and in range, errors naming the file."""
    raw = read_table(path, "config file")
    check_keys(raw, where=str(path))
    validate(raw, where=str(path))
    return raw


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it; the dict-valued keys merge one level deep."""
    out = json.loads(json.dumps(base))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def check_keys(config: dict[str, Any], where: str = "config") -> None:
    """Every key known and every value of the default's type; raises ConfigError naming the key."""
    known = {**TOP_DEFAULTS, "train": TRAIN_DEFAULTS, **dict.fromkeys(_OUTPUT_KEYS)}
    for key, value in config.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        if key in _OUTPUT_KEYS:
            continue
        if key == "train":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: key 'train' must be a table, got {value!r:.80}")
            for sub, subvalue in value.items():
                if sub not in TRAIN_DEFAULTS:
                    raise ConfigError(
                        f"{where}: unknown key {'train.' + sub!r} "
                        f"(known: {', '.join(TRAIN_DEFAULTS)})"
                    )
                check_type(f"{where}: key 'train.{sub}'", TRAIN_DEFAULTS[sub], subvalue)
        else:
            check_type(f"{where}: key '{key}'", TOP_DEFAULTS[key], value)
            check_plain(where, [key], value)


def check_plain(where: str, path: list[str], value: Any) -> None:
    """Only what JSON holds (config.json, the config hash): TOML dates and times are refused."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_plain(where, [*path, key], item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_plain(where, path, item)
    elif not isinstance(value, str | int | float | bool | None):
        raise ConfigError(
            f"{where}: key {'.'.join(path)!r:.120} must be a number, string, boolean, array or "
            f"table, got {value!r:.80}"
        )


# train key -> the rule its value must pass
_CHECKS: dict[str, Rule] = {
    "epochs": (lambda v: v >= 1, "at least 1"),
    "batch_size": (lambda v: v >= 2, "at least 2"),
    "eval_batch_size": (lambda v: v >= 1, "at least 1"),
    "lr": (lambda v: v > 0, "positive"),
    "weight_decay": (lambda v: v >= 0, "0 or more"),
    "patience": (lambda v: v >= 0, "0 or more"),
    "label_smoothing": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "grad_clip": (lambda v: v >= 0, "0 or more"),
    "accum_steps": (lambda v: v >= 1, "at least 1"),
    "aux_weight": (lambda v: v >= 0, "0 or more"),
    "subset": (lambda v: v >= 0, "0 (all) or more"),
    "threads": (lambda v: v >= 0, "0 (auto) or more"),
    "rotate": (lambda v: 0 <= v <= 180, "in [0, 180] degrees"),
    "translate": (lambda v: 0 <= v <= 0.5, "in [0, 0.5]"),
    "schedule": (lambda v: v in SCHEDULES, f"one of {', '.join(SCHEDULES)}"),
    "device": (lambda v: v in DEVICES, f"one of {', '.join(DEVICES)}"),
    "subset_mode": (lambda v: v in SUBSET_MODES, f"one of {', '.join(SUBSET_MODES)}"),
    "pairs": (lambda v: v in PAIRS, f"one of {', '.join(PAIRS)}"),
    "crop_scale": (
        lambda v: len(v) == 2 and 0 < v[0] <= v[1] <= 1,
        "[low, high] with 0 < low <= high <= 1",
    ),
}


def validate(config: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """Defaults filled in and every value checked; returns a new dict."""
    check_keys(config, where)
    out = merge(default_config(), config)
    t = out["train"]
    for key, default in TRAIN_DEFAULTS.items():
        if isinstance(default, float):
            t[key] = finite_float(f"{where}: key 'train.{key}'", t[key])
    t["crop_scale"] = [finite_float(f"{where}: key 'train.crop_scale'", v) for v in t["crop_scale"]]
    for key, rule in _CHECKS.items():
        check_rule(f"{where}: key 'train.{key}'", t[key], rule)
    check_rule(f"{where}: key 'seed'", out["seed"], _SEED)
    return out


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of what the run learns from (no name, paths or runtime keys)."""
    body = {k: v for k, v in config.items() if k not in _UNHASHED}
    skip = _RUNTIME_KEYS + _PATH_KEYS
    body["train"] = {k: v for k, v in config.get("train", {}).items() if k not in skip}
    if body["train"].get("pairs") == "fixed":
        del body["train"]["pairs"]  # runs from before the key existed keep their hash
    if body["train"].get("init_strict") is True:
        del body["train"]["init_strict"]  # likewise
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_value(text: str) -> Any:
    """A command-line value as a JSON-ish literal: JSON, else a comma list of those, else the string."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    if "," in text:
        return [parse_value(part.strip()) for part in text.split(",") if part.strip()]
    return text


def parse_assignments(items: tuple[str, ...] | list[str], option: str) -> dict[str, Any]:
    """`key=value` strings (from a repeated option) into a dict of parsed values."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{option} '{item}': expected key=value")
        out[key.strip()] = parse_value(value.strip())
    return out
