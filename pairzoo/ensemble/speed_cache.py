"""Measured member speeds, cached per CPU kind in one JSON file written atomically.

The file lives in ``$PAIRZOO_CACHE_DIR`` (default ``$XDG_CACHE_HOME/pairzoo``, else
``~/.cache/pairzoo``). Entries are keyed by the CPU (model and flags, `pairzoo.machine`), the
onnxruntime version, threads and batch, and the two ONNX files' sha256: another CPU, another
runtime or a changed file measures again. A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CACHE_FILE = "int8-speed.json"


def cache_path() -> Path:
    base = os.environ.get("PAIRZOO_CACHE_DIR")
    if base:
        return Path(base) / CACHE_FILE
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "pairzoo" / CACHE_FILE


def read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def lookup(path: Path, machine: str, key: str) -> dict[str, float] | None:
    entry = read_cache(path).get(machine, {}).get(key)
    ok = isinstance(entry, dict) and all(
        isinstance(entry.get(v), int | float) and entry[v] > 0 for v in ("fp32", "int8")
    )
    return {"fp32": float(entry["fp32"]), "int8": float(entry["int8"])} if ok else None


def store(path: Path, machine: str, key: str, speeds: dict[str, float]) -> None:
    """Add one measurement under a lock, so that concurrent runs do not drop each other's."""
    import filelock

    from pairzoo.atomic import write_json

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(path) + ".lock", timeout=10):
            data = read_cache(path)
            mine = data.get(machine) if isinstance(data.get(machine), dict) else {}
            data[machine] = {**mine, key: speeds}
            write_json(path, data)
    except (OSError, filelock.Timeout):
        pass  # a cache we cannot write only means measuring again next time
