"""meta.json of a data directory, file hashes, and the data fingerprint recorded by runs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pairzoo.errors import DataError

__all__ = ["DATA_FILES", "META", "data_fingerprint", "read_meta", "sha256_file", "verify_meta"]

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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(meta, dict):
        raise DataError(f"{path}: holds {type(meta).__name__}, expected a JSON object")
    return meta


def verify_meta(data_dir: str | os.PathLike, meta: dict) -> list[str]:
    """Check every file listed in `meta["files"]` against its sha256; returns the names checked
    (none when meta.json lists no files, as the original task's did not)."""
    data_dir = Path(data_dir)
    files = meta.get("files", {})
    if not isinstance(files, dict):
        raise DataError(
            f"{data_dir / META}: 'files' is {type(files).__name__}, expected an object of sha256 hashes"
        )
    for name, expected in sorted(files.items()):
        path = data_dir / name
        if not path.is_file():
            raise DataError(f"{data_dir / META}: lists {name}, which is missing")
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
