"""The registry's index, catalogue.json: every entry, read without a lock and changed under one.

`catalogue.json` = {"format": 1, "entries": [{name, version, kind, dir, card_sha256, created}],
"retired": [{name, version, card_sha256, removed}]}. Writers hold `.catalogue.lock` (filelock)
for the whole read-modify-write; the file itself is replaced atomically, so readers never see
half of one. A catalogue that cannot be parsed is never overwritten.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock

from pairzoo import atomic
from pairzoo.errors import RegistryError
from pairzoo.registry.card import check_name

CATALOGUE_FILE = "catalogue.json"
LOCK_FILE = ".catalogue.lock"
FORMAT = 1
LOCK_TIMEOUT_S = 120.0
_ENTRY_KEYS = {"name": str, "version": int, "kind": str, "dir": str, "card_sha256": str}


def empty() -> dict[str, Any]:
    return {"format": FORMAT, "entries": [], "retired": []}


def read(root: Path) -> dict[str, Any]:
    """The catalogue of registry `root` (empty if there is none yet); raises RegistryError if corrupt."""
    path = root / CATALOGUE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return empty()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the catalogue ({exc})") from None
    try:
        cat = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, too deep, too long ints
        raise _corrupt(path, f"not valid JSON ({type(exc).__name__}: {exc})") from None
    problem = _structure_problem(cat)
    if problem:
        raise _corrupt(path, problem)
    cat.setdefault("retired", [])
    return cat


class CorruptCatalogue(RegistryError):
    """The catalogue file exists but cannot be used; `why` says what is wrong with it."""

    def __init__(self, path: Path, why: str):
        self.path, self.why = path, why
        super().__init__(
            f"{path}: catalogue is corrupted: {why}; nothing was changed. Run `pairzoo registry "
            f"verify --registry {path.parent}` to see which entries on disk are intact, then "
            f"restore {CATALOGUE_FILE} from a backup"
        )


def _corrupt(path: Path, why: str) -> CorruptCatalogue:
    return CorruptCatalogue(path, why)


def _structure_problem(cat: Any) -> str | None:
    if not isinstance(cat, dict):
        return f"top level is a {type(cat).__name__}, expected an object"
    if cat.get("format") != FORMAT:
        return f"format is {cat.get('format')!r}, expected {FORMAT}"
    entries = cat.get("entries")
    if not isinstance(entries, list):
        return "key 'entries' is missing or not a list"
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            return f"entries[{i}] is not an object"
        for key, kind in _ENTRY_KEYS.items():
            if not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool):
                return f"entries[{i}] key '{key}' is missing or not a {kind.__name__}"
        try:
            check_name(entry["name"])
        except RegistryError:
            return f"entries[{i}] name {entry['name']!r:.80} is not a registry name"
        if entry["version"] < 1:
            return f"entries[{i}] version {entry['version']} is not 1 or more"
        if entry["dir"] != f"{entry['name']}/{entry['version']}":
            return (
                f"entries[{i}] dir {entry['dir']!r:.80} is not NAME/VERSION of its name and version"
            )
    retired = cat.get("retired", [])
    if not isinstance(retired, list) or not all(isinstance(r, dict) for r in retired):
        return "key 'retired' is not a list of objects"
    return None


@contextlib.contextmanager
def locked(root: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[dict[str, Any]]:
    """Hold the writer lock; yields the current catalogue, written back atomically on success."""
    root.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(root / LOCK_FILE), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RegistryError(
            f"{root / LOCK_FILE}: could not take the catalogue lock within {timeout:.0f} s; "
            "another pairzoo process is writing this registry"
        ) from None
    try:
        cat = read(root)
        yield cat
        cat["entries"].sort(key=lambda e: (e["name"], e["version"]))
        atomic.write_json(root / CATALOGUE_FILE, cat)
    finally:
        lock.release()


def find(cat: dict[str, Any], name: str, version: int | None = None) -> list[dict[str, Any]]:
    """Catalogue rows for `name` (one version, or all, oldest first)."""
    rows = [e for e in cat["entries"] if e["name"] == name]
    if version is not None:
        rows = [e for e in rows if e["version"] == version]
    return sorted(rows, key=lambda e: e["version"])


def used_versions(cat: dict[str, Any], name: str) -> set[int]:
    """Versions of `name` that exist or existed: a removed version number is never handed out again."""
    live = {e["version"] for e in cat["entries"] if e["name"] == name}
    gone = {r.get("version") for r in cat.get("retired", []) if r.get("name") == name}
    return live | {v for v in gone if isinstance(v, int)}
