"""Entry directories: staged in a temp dir, renamed into `NAME/VERSION/`, then catalogued.

Order of a write: copy and hash the files into `.staging/` (no lock), then under the catalogue
lock pick the next version, write card.json, rename the staged dir into place and add the
catalogue row. A crash before the rename leaves only a staging dir; after it, an entry dir the
catalogue does not list. Neither is ever visible as an entry; `registry verify` reports both,
and the next write cleans them: staging dirs whose process is gone, and (under the lock) the
unlisted version dirs of the name it registers, whose numbers are retired, never reused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pairzoo import __version__
from pairzoo.atomic import fsync_dir, is_stale, owner_tag
from pairzoo.errors import RegistryError
from pairzoo.registry import index
from pairzoo.registry.card import (
    CARD_FILE,
    card_bytes,
    check_arcname,
    check_kind,
    check_name,
    format_ref,
    sha256_bytes,
)

STAGING_DIR = ".staging"
_CHUNK = 1 << 20
_STAGED = re.compile(r"^(entry|removed)-pz-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


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
    remove_stale_staging(root)
    staging = _stage(root, name, files)
    try:
        return _commit(root, name, kind, staging, card)
    finally:
        if staging[0].exists():
            shutil.rmtree(staging[0], ignore_errors=True)


class RegistryWriteError(RegistryError, OSError):
    """A registration failed on a file system error; it is an OSError too, with its errno."""

    def __init__(self, message: str, cause: OSError):
        super().__init__(cause.errno, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _failed(name: str, step: str, exc: OSError) -> RegistryWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno is not None:
        reason += f", errno {exc.errno}"
    return RegistryWriteError(
        f"could not register '{name}': {step} failed ({reason}); nothing was registered", exc
    )


def remove_stale_staging(root: Path) -> None:
    """Delete staging and removal dirs whose process is gone (killed mid-write)."""
    staging = root / STAGING_DIR
    with contextlib.suppress(OSError):
        for entry in os.scandir(staging):
            if is_stale(entry.name, _STAGED):
                shutil.rmtree(entry.path, ignore_errors=True)


def _stage(root: Path, name: str, files: dict[str, Path]) -> tuple[Path, dict[str, dict]]:
    try:
        staging = _staging_dir(root, "entry")
    except OSError as exc:
        raise _failed(name, f"creating a staging dir in {root / STAGING_DIR}", exc) from exc
    infos: dict[str, dict] = {}
    try:
        for arcname, src in sorted(files.items()):
            check_arcname(arcname)
            try:
                infos[arcname] = _copy_hashed(Path(src), staging / arcname)
            except OSError as exc:
                raise _failed(name, f"copying {src} to {staging / arcname}", exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, infos


def _staging_dir(root: Path, kind: str) -> Path:
    """A new dir in `.staging/` named after this process, so a later writer can tell it stale."""
    (root / STAGING_DIR).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{kind}-pz-{owner_tag()}-", dir=root / STAGING_DIR))


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
    step = f"taking the catalogue lock of {root}"
    try:
        with index.locked(root) as cat:
            step = f"clearing unlisted versions of '{name}'"
            remove_unlisted(root, cat, name)
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
            step = f"writing {staged_dir / CARD_FILE}"
            with open(staged_dir / CARD_FILE, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            fsync_dir(staged_dir)
            target = entry_path(root, name, version)
            step = f"moving {staged_dir} to {target}"
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
            step = f"writing {root / index.CATALOGUE_FILE}"
    except OSError as exc:  # an entry dir already renamed stays, unlisted, for the next write
        raise _failed(name, step, exc) from exc
    return final


def remove_unlisted(root: Path, cat: dict[str, Any], name: str) -> None:
    """Delete the version dirs of `name` that `cat` does not list; call under the lock.

    Only a write that died between its rename and its catalogue update leaves one (or a removal
    that died before deleting its dir), since both happen under the lock the caller holds. The
    number of a dir that was never catalogued is retired, so it is still never handed out.
    """
    listed = {e["version"] for e in index.find(cat, name)}
    used = index.used_versions(cat, name)
    name_dir = root / name
    if not name_dir.is_dir():
        return
    for child in sorted(name_dir.iterdir()):
        card = child / CARD_FILE
        if not (child.name.isdigit() and int(child.name) not in listed and card.is_file()):
            continue
        if int(child.name) not in used:
            cat["retired"].append(
                {
                    "name": name,
                    "version": int(child.name),
                    "card_sha256": sha256_bytes(card.read_bytes()),
                    "removed": now_utc(),
                    "reason": "its registration was interrupted before it was catalogued",
                }
            )
        _discard(root, child)


def _discard(root: Path, entry_dir: Path) -> None:
    trash = _staging_dir(root, "removed")
    try:
        os.rename(entry_dir, trash / "entry")
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def next_version(root: Path, cat: dict[str, Any], name: str) -> int:
    """One more than any version the catalogue has used or any directory on disk holds."""
    used = index.used_versions(cat, name)
    name_dir = root / name
    if name_dir.is_dir():
        used |= {int(p.name) for p in name_dir.iterdir() if p.name.isdigit()}
    return max(used, default=0) + 1


def remove(root: Path, name: str, version: int) -> dict[str, Any]:
    """Drop `name@version` from the catalogue (its number is retired), then delete its files."""
    with index.locked(root) as cat:
        rows = index.find(cat, name, version)
        if not rows:
            raise RegistryError(
                f"no entry '{format_ref(name, version)}' in {root / index.CATALOGUE_FILE}"
            )
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
    remove_stale_staging(root)
    target = root / row["dir"]
    if target.exists():
        with contextlib.suppress(FileNotFoundError):  # another writer cleared it first
            _discard(root, target)
    with contextlib.suppress(OSError):
        (root / name).rmdir()  # only if now empty
    return row
