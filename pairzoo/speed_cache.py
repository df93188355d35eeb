"""Speeds measured on this machine, cached per CPU kind in one JSON file written atomically.

Two choices read it: an ensemble member's fp32 or int8 variant (`pairzoo.ensemble.variants`) and
CPU training's fp32 or bf16 (`pairzoo.train.cpu_precision`). The file lives in
``$PAIRZOO_CACHE_DIR`` (default ``$XDG_CACHE_HOME/pairzoo``, else ``~/.cache/pairzoo``). Entries
are keyed by the CPU (model and flags, `pairzoo.machine`), then by what was measured (the
runtime's version, threads, batch, files): another CPU, runtime or file measures again. A cache
that cannot be read or written is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pairzoo.atomic import write_json

CACHE_FILE = "speeds.json"


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


def lookup(
    path: Path,
    machine: str,
    key: str,
    names: tuple[str, ...] = ("fp32", "int8"),
    allow_zero: bool = False,
) -> dict[str, float] | None:
    """The speeds cached under `key`, one positive number per name in `names` (`allow_zero`:
    or 0, a candidate that could not run), else None."""
    entry = read_cache(path).get(machine, {}).get(key)
    ok = isinstance(entry, dict) and all(
        isinstance(entry.get(v), int | float) and (entry[v] > 0 or allow_zero and entry[v] == 0)
        for v in names
    )
    return {v: float(entry[v]) for v in names} if ok else None


def store(path: Path, machine: str, key: str, speeds: dict[str, float]) -> None:
    """Add one measurement under a lock, so that concurrent runs do not drop each other's."""
    import filelock

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(path) + ".lock", timeout=10):
            data = read_cache(path)
            mine = data.get(machine) if isinstance(data.get(machine), dict) else {}
            data[machine] = {**mine, key: speeds}
            write_json(path, data)
    except (OSError, filelock.Timeout):
        pass  # a cache we cannot write only means measuring again next time


def lookup_or_measure(
    path: Path,
    machine: str,
    key: str,
    names: tuple[str, ...],
    measure: Callable[[], dict[str, float]],
    allow_zero: bool = False,
) -> tuple[dict[str, float], bool]:
    """(speeds, cached): the cached speeds under `key`, else `measure()`'s, stored.

    Processes that start together (train-all's workers, data-parallel ranks) measure one at a
    time: the others wait for the first and read its figures, so no timing runs beside another.
    """
    import filelock

    speeds = lookup(path, machine, key, names, allow_zero)
    if speeds is not None:
        return speeds, True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path) + ".measure.lock", timeout=120)
        lock.acquire()
    except (OSError, filelock.Timeout):
        lock = None
    try:
        speeds = lookup(path, machine, key, names, allow_zero)
        if speeds is not None:
            return speeds, True
        speeds = measure()
        store(path, machine, key, speeds)
        return speeds, False
    finally:
        if lock is not None:
            lock.release()


def pick_faster(
    mode: str, speeds: dict[str, float] | None, base: str, candidate: str, min_gain: float
) -> str:
    """`candidate` or `base` for `mode` never|always|auto; auto takes `candidate` only if its
    measured speed is at least `min_gain` times `base`'s (a near-tie, or noise, keeps `base`)."""
    if mode == "never":
        return base
    if mode == "always":
        return candidate
    if speeds is None:
        raise ValueError(f"mode 'auto' needs measured speeds of {base} and {candidate}")
    return candidate if speeds[candidate] >= min_gain * speeds[base] else base
