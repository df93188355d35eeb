"""meta.json of a data directory, file hashes, and the data fingerprint recorded by runs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pairzoo.errors import DataError

__all__ = [
    "DATA_FILES",
    "META",
    "data_fingerprint",
    "read_meta",
    "sha256_file",
    "verify_meta",
    "write_meta",
]

META = "meta.json"
DATA_FILES = (
    "train.npz",
    "val.npz",
    "test_public.npz",
    "test_public_labels.csv",
    "test_private.npz",
)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(data_dir: str | os.PathLike) -> dict:
    """The parsed meta.json of `data_dir`; raises DataError if it is missing or malformed."""
    path = Path(data_dir) / META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found (data made by `pairzoo data make` has one)") from e
    except (OSError, ValueError, RecursionError) as e:
        # ValueError: bad JSON, bad UTF-8, or an integer of more digits than Python converts
        raise DataError(f"{path}: not valid JSON ({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict):
        raise DataError(f"{path}: holds {type(meta).__name__}, expected a JSON object")
    _check_types(path, meta)
    return meta


def write_meta(data_dir: str | os.PathLike, drawn: dict, hashed: bool = False) -> dict:
    """Write the meta.json of pair data drawn in-process, without corruption or adjacent pairs
    (easy data of `plugins check`, the tests' tiny data). `drawn` gives source, seed, rule and
    sizes, and any further keys; `hashed` lists every file's sha256 so `data check` verifies
    them. Returns the dict written."""
    data_dir = Path(data_dir)
    files = {}
    if hashed:
        files = {p.name: sha256_file(p) for p in sorted(data_dir.iterdir()) if p.name != META}
    meta = {
        "format": 1,
        "source": drawn["source"],
        "seed": drawn["seed"],
        "severity": 0,
        "rule": drawn["rule"],
        "adjacent": 0.0,
        "sizes": drawn["sizes"],
        "files": files,
    }
    meta.update((k, v) for k, v in drawn.items() if k not in meta)
    (data_dir / META).write_text(json.dumps(meta), encoding="utf-8")
    return meta


def _check_types(path: Path, meta: dict) -> None:
    """The keys readers rely on, when present: rule a string, sizes and files objects."""
    if meta.get("rule") is not None and not isinstance(meta["rule"], str):
        raise DataError(f"{path}: key 'rule' is {meta['rule']!r:.80}, expected a label rule name")
    sizes = meta.get("sizes", {})
    if not isinstance(sizes, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes.values()
    ):
        raise DataError(f"{path}: key 'sizes' is {sizes!r:.80}, expected an object of pair counts")
    files = meta.get("files", {})
    if not isinstance(files, dict):
        raise DataError(
            f"{path}: key 'files' is {type(files).__name__}, expected an object of sha256 hashes"
        )
    for name, digest in files.items():
        odd = "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name)  # NUL, newline, ...
        if Path(name).name != name or name in ("", ".", "..") or odd:
            raise DataError(
                f"{path}: key 'files' lists {name!r}, expected a file name inside the directory"
            )
        if not isinstance(digest, str):
            raise DataError(
                f"{path}: key 'files' maps {name!r:.80} to {digest!r:.80}, expected a sha256 hex string"
            )


def verify_meta(data_dir: str | os.PathLike, meta: dict) -> list[str]:
    """Check every file listed in `meta["files"]` against its sha256; returns the names checked
    (none when meta.json lists no files, as the original task's did not)."""
    data_dir = Path(data_dir)
    _check_types(data_dir / META, meta)
    files = meta["files"] if "files" in meta else {}
    for name, expected in sorted(files.items()):
        path = data_dir / name
        if not path.is_file():
            raise DataError(f"{data_dir / META}: lists {name!r:.80}, which is missing")
        found = sha256_file(path)
        if found != expected:
            raise DataError(
                f"{path}: sha256 is {found[:16]}..., {META} expects {str(expected)[:16]}... "
                "(the file changed after it was made)"
            )
    return sorted(files)


def data_fingerprint(data_dir: str | os.PathLike) -> str:
    """sha256 over the names and sha256 hashes of the data files present in `data_dir`."""
    data_dir = Path(data_dir)
    lines = [
        f"{name}:{sha256_file(data_dir / name)}\n"
        for name in DATA_FILES
        if (data_dir / name).is_file()
    ]
    if not lines:
        raise DataError(f"{data_dir}: holds none of {', '.join(DATA_FILES)}")
    return hashlib.sha256("".join(lines).encode()).hexdigest()
