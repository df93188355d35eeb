"""One reader for every file of settings pairzoo takes (run configs, zoo, space and corruption
files): TOML, or JSON for a run's config.json, with one error shape naming the file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pairzoo.errors import ConfigError

__all__ = ["read_table", "read_toml"]


def read_toml(path: str | Path, kind: str) -> dict[str, Any]:
    """The parsed file; ConfigError naming `kind` (e.g. "zoo file") and the path otherwise."""
    return _read(Path(path), kind, tomllib.loads, "TOML")


def read_table(path: str | Path, kind: str) -> dict[str, Any]:
    """A TOML file, or JSON when it ends in .json; ConfigError unless it holds a table."""
    path = Path(path)
    fmt = "JSON" if path.suffix == ".json" else "TOML"
    raw = _read(path, kind, json.loads if fmt == "JSON" else tomllib.loads, fmt)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: holds a {type(raw).__name__}, expected a {fmt} table")
    return raw


def _read(path: Path, kind: str, parse, fmt: str) -> Any:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{kind} '{path}' does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{kind} '{path}' cannot be read: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # syntax, bad UTF-8, nesting too deep
        raise ConfigError(f"{path}: not valid {fmt}: {type(exc).__name__}: {exc}") from None
