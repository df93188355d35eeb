"""Entry directories: staged in a temp dir, renamed into `NAME/VERSION/`, then catalogued.

Order of a write: copy and hash the files into `.staging/` (no lock), then under the catalogue
lock pick the next version, write card.json, rename the staged dir into place and add the
catalogue row. A crash before the rename leaves only a staging dir; after it, an entry dir the
catalogue does not list. Neither is ever visible as an entry; `registry verify` reports both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pairzoo import __version__
from pairzoo.atomic import fsync_dir
from pairzoo.errors import RegistryError
from pairzoo.registry import catalogue
from pairzoo.registry.card import (
    CARD_FILE,
    card_bytes,
    check_arcname,
    check_kind,
    check_name,
    sha256_bytes,
)

STAGING_DIR = ".staging"
_CHUNK = 1 << 20


def entry_path(root: Path, name: str, version: int) -> Path:
    return root / name / str(version)


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def add(root: Path, name: str, kind: str, files: dict[str, Path], card: dict[str, Any]) -> dict:
    """Store `files` and `card` as the next version of `name`; returns the final card."""
    check_name(name)
    check_kind(kind)
    if not files:
        raise RegistryError(f"entry '{name}' has no files to register")
    main = card.get("onnx")
    if main is not None and main not in files:
        raise RegistryError(
            f"card of '{name}' names onnx file '{main}', which is not among its files"
        )
    staging = _stage(root, files)
    try:
        return _commit(root, name, kind, staging, card)
    finally:
        if staging[0].exists():
            shutil.rmtree(staging[0], ignore_errors=True)


def _stage(root: Path, files: dict[str, Path]) -> tuple[Path, dict[str, dict]]:
    (root / STAGING_DIR).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="entry-", dir=root / STAGING_DIR))
    infos: dict[str, dict] = {}
    try:
        for arcname, src in sorted(files.items()):
            check_arcname(arcname)
            infos[arcname] = _copy_hashed(Path(src), staging / arcname)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, infos


def _copy_hashed(src: Path, dst: Path) -> dict[str, Any]:
    dst.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            while chunk := fin.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
    except FileNotFoundError:
        raise RegistryError(f"{src}: file to register does not exist") from None
    return {"sha256": digest.hexdigest(), "bytes": size}


def _commit(root: Path, name: str, kind: str, staging: tuple[Path, dict], card: dict) -> dict:
    staged_dir, infos = staging
    with catalogue.locked(root) as cat:
        version = next_version(root, cat, name)
        final = {
            **card,
            "name": name,
            "version": version,
            "kind": kind,
            "files": infos,
            "created": card.get("created") or now_utc(),
            "pairzoo_version": card.get("pairzoo_version") or __version__,
        }
        data = card_bytes(final)
        with open(staged_dir / CARD_FILE, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(staged_dir)
        target = entry_path(root, name, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged_dir, target)  # fails rather than merge if target somehow exists
        fsync_dir(target.parent)
        cat["entries"].append(
            {
                "name": name,
                "version": version,
                "kind": kind,
                "dir": f"{name}/{version}",
                "card_sha256": sha256_bytes(data),
                "created": final["created"],
            }
        )
    return final


def next_version(root: Path, cat: dict[str, Any], name: str) -> int:
    """One more than any version the catalogue has used or any directory on disk holds."""
    used = catalogue.used_versions(cat, name)
    name_dir = root / name
    if name_dir.is_dir():
        used |= {int(p.name) for p in name_dir.iterdir() if p.name.isdigit()}
    return max(used, default=0) + 1


def remove(root: Path, name: str, version: int) -> dict[str, Any]:
    """Drop `name@version` from the catalogue (its number is retired), then delete its files."""
    with catalogue.locked(root) as cat:
        rows = catalogue.find(cat, name, version)
        if not rows:
            raise RegistryError(f"no entry '{name}@{version}' in {root / catalogue.CATALOGUE_FILE}")
        row = rows[0]
        cat["entries"].remove(row)
        cat["retired"].append(
            {
                "name": name,
                "version": version,
                "card_sha256": row["card_sha256"],
                "removed": now_utc(),
            }
        )
    target = root / row["dir"]
    if target.exists():
        (root / STAGING_DIR).mkdir(exist_ok=True)
        trash = Path(tempfile.mkdtemp(prefix="removed-", dir=root / STAGING_DIR))
        os.rename(target, trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)
    with contextlib.suppress(OSError):
        (root / name).rmdir()  # only if now empty
    return row
