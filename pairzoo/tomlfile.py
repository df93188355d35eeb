"""One TOML reader for every file pairzoo takes (zoo files, corruption files): one error shape."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pairzoo.errors import ConfigError

__all__ = ["read_toml"]


def read_toml(path: str | Path, kind: str) -> dict[str, Any]:
    """The parsed file; ConfigError naming `kind` (e.g. "zoo file") and the path otherwise."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{kind} '{path}' does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{kind} '{path}' cannot be read: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # TOML syntax, bad UTF-8, nesting too deep
        raise ConfigError(f"{path}: not valid TOML: {type(exc).__name__}: {exc}") from None
