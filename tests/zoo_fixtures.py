"""The tiny zoo files of the train-all, adapt and security tests, and TOML written from dicts.

A test states only what its zoo is about (its models, ensemble and training budget); the rest, a
tiny baseline on one thread kept whatever its val accuracy, is here once.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

TINY_ARCH = {"arch": "baseline", "arch_params": {"width_mult": 0.125, "feat_dim": 8}}
NO_ENSEMBLE = {"enabled": False}
SMALL_STACK = {"folds": 2, "n_estimators": 5, "min_child_samples": 2}  # LightGBM on few pairs


def tiny_zoo(
    models: dict,
    *,
    train: dict,
    ensemble: dict,
    settings: dict | None = None,
    defaults: dict | None = None,
    **top,
) -> dict:
    """A zoo of tiny baseline models on one thread, kept whatever their val accuracy; `settings`
    and `defaults` add to (or override) that, `top` adds tables such as profiles."""
    return {
        "settings": {"min_val_accuracy": 0.0, **(settings or {})},
        "ensemble": ensemble,
        "defaults": {**TINY_ARCH, **(defaults or {}), "train": {**train, "threads": 1}},
        "models": models,
        **top,
    }


def write_zoo(directory: Path, zoo: dict, name: str = "zoo.toml") -> Path:
    """`zoo` written as TOML to directory/name; returns the path."""
    path = Path(directory) / name
    path.write_text(toml_document(zoo), encoding="utf-8")
    return path


# ---- TOML writing (no TOML writer is a dependency) ---------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


toml_key = toml_string


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(doc: dict) -> str:
    """`doc` as TOML: scalars first, then one [table] per dict value (nested ones inline)."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"[{toml_key(key)}]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"
