"""Loading a run directory: the best model rebuilt through its plugins, with config and metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pairzoo.errors import ConfigError, PluginError, RunError
from pairzoo.plugins import build_architecture, catalog
from pairzoo.train.checkpoint import FORMAT, load_torch


@dataclass
class LoadedRun:
    model: torch.nn.Module  # eval mode, on the CPU
    config: dict[str, Any]
    metrics: dict[str, Any]
    path: Path


def load_run(run_dir: str | Path, require_finished: bool = True) -> LoadedRun:
    """Load `run_dir`'s model.pt (weights_only), config.json and metrics.json; raises RunError."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunError(f"run directory '{path}' does not exist")
    metrics = _read_json(path / "metrics.json")
    if require_finished and not metrics.get("finished"):
        raise RunError(
            f'{path}: the run is not finished (metrics.json has no "finished": true); '
            f"continue it with `pairzoo train --resume --out {path}`"
        )
    _read_json(path / "config.json")
    saved = load_torch(path / "model.pt")
    if (
        not isinstance(saved, dict)
        or saved.get("format") != FORMAT
        or not isinstance(saved.get("state_dict"), dict)
    ):
        raise RunError(
            f"{path / 'model.pt'}: expected a dict with format {FORMAT}, state_dict and config"
        )
    config = saved.get("config")
    if not isinstance(config, dict) or "arch" not in config:
        raise RunError(f"{path / 'model.pt'}: no config with an 'arch' key")
    model = build_model(config, where=path / "model.pt")
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise RunError(
            f"{path / 'model.pt'}: weights do not fit architecture '{config['arch']}' ({first})"
        ) from exc
    return LoadedRun(model.eval(), config, metrics, path)


def build_model(config: dict[str, Any], where: Path | str = "config") -> torch.nn.Module:
    """The config's architecture, freshly built on the CPU; RunError naming a plugin that is gone."""
    arch = config["arch"]
    if arch not in catalog().architectures:
        origin = (config.get("provenance") or {}).get("arch") or {}
        plugin = origin.get("plugin", "unknown")
        raise RunError(
            f"{where}: architecture '{arch}' was provided by plugin '{plugin}' "
            f"{origin.get('version', '')}".rstrip()
            + ", which is not installed now (install it, or pass --plugins-dir with its file)"
        )
    try:
        return build_architecture(arch, config.get("arch_params") or {})
    except (ConfigError, PluginError) as exc:
        raise RunError(f"{where}: cannot rebuild architecture '{arch}': {exc}") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: file is missing (is this a run directory?)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise RunError(f"{path}: expected a JSON object")
    return value
