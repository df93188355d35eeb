"""Registry cards: canonical bytes, hashing, names and references, and the listing summary."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from pairzoo.errors import RegistryError

CARD_FILE = "card.json"
KINDS = ("model", "ensemble")  # known kinds; variants (e.g. "model-int8") follow _KIND
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RESERVED = {"catalogue.json", "README.md"}  # files at the registry root
_CHUNK = 1 << 20

# The model I/O contract as it appears in every single-model card.
MODEL_SIGNATURE: dict[str, Any] = {
    "inputs": [
        {"name": "xa", "dtype": "float32", "shape": ["N", 1, 28, 28]},
        {"name": "xb", "dtype": "float32", "shape": ["N", 1, 28, 28]},
    ],
    "outputs": [{"name": "logit", "dtype": "float32", "shape": ["N"]}],
    "preprocessing": "x uint8 (N, 28, 56); xa = x[:, :, :28] / 255.0, xb = x[:, :, 28:] / 255.0",
    "output_meaning": "logit of label 1; label = logit > 0",
}


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def card_bytes(card: dict[str, Any]) -> bytes:
    """The exact bytes written to card.json (and hashed into the catalogue)."""
    return (json.dumps(card, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
        raise RegistryError(
            f"invalid registry name {name!r}: expected 1-100 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (choose one with --name)"
        )
    return name


def check_kind(kind: str) -> str:
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise RegistryError(
            f"invalid entry kind {kind!r}: expected a lower-case word such as "
            f"{', '.join(KINDS)} or a variant like model-int8"
        )
    return kind


def check_arcname(arcname: str) -> str:
    parts = PurePosixPath(arcname).parts
    if (
        not isinstance(arcname, str)
        or not parts
        or arcname.startswith("/")
        or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
        or arcname == CARD_FILE
    ):
        raise RegistryError(
            f"invalid file name {arcname!r} for a registry entry: expected a relative path without "
            f"'..' or hidden parts, other than {CARD_FILE}"
        )
    return arcname


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`name` or `name@version` -> (name, version or None)."""
    name, sep, version = str(ref).partition("@")
    check_name(name)
    if not sep:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise RegistryError(f"invalid version in {ref!r}: expected NAME@N with N = 1, 2, ...")
    return name, int(version)


def read_card(path: Path) -> tuple[dict[str, Any], str]:
    """Load a card.json; returns (card, sha256 of its bytes)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegistryError(f"{path}: card is missing") from None
    except OSError as exc:
        raise RegistryError(f"{path}: card cannot be read ({exc})") from None
    try:
        card = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, too deep, too long ints
        raise RegistryError(
            f"{path}: card is not valid JSON ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(card, dict):
        raise RegistryError(f"{path}: card is a {type(card).__name__}, expected a JSON object")
    check_card_shape(card, path)
    return card, sha256_bytes(data)


def check_card_shape(card: dict[str, Any], path: Path) -> None:
    """The keys loaders index into: `name` and `version` of a registry entry, `files`
    {arcname: {"sha256": str, ...}}, `onnx` one of those files."""
    name, version = card.get("name"), card.get("version")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistryError(f"{path}: card key 'name' is {name!r:.110}, expected a registry name")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RegistryError(f"{path}: card key 'version' is {version!r:.80}, expected 1, 2, ...")
    files = card.get("files", {})
    if not isinstance(files, dict):
        raise RegistryError(
            f"{path}: card key 'files' is a {type(files).__name__}, expected an object of "
            "{arcname: {sha256, bytes}}"
        )
    for arcname, info in files.items():
        try:
            check_arcname(arcname)
        except RegistryError as exc:
            raise RegistryError(f"{path}: {exc}") from None
        if not isinstance(info, dict) or not isinstance(info.get("sha256"), str):
            raise RegistryError(
                f"{path}: card key {'files.' + arcname!r:.120} is {info!r:.80}, "
                "expected an object with a sha256 string"
            )
    main = card.get("onnx")
    if main is not None and (not isinstance(main, str) or main not in files):
        raise RegistryError(
            f"{path}: card key 'onnx' is {main!r:.80}, expected the name of one of its files"
        )


def onnx_bytes(card: dict[str, Any]) -> int | None:
    files, main = card.get("files"), card.get("onnx")
    info = files.get(main) if isinstance(files, dict) and isinstance(main, str) else None
    size = info.get("bytes") if isinstance(info, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _get(table: Any, key: str) -> Any:
    return table.get(key) if isinstance(table, dict) else None


def summary(card: dict[str, Any]) -> dict[str, Any]:
    """The listing row for `registry ls` (tolerates any JSON in the card's optional keys)."""
    arch = card.get("architecture") or {}
    val = _get(_get(card, "metrics"), "val") or {}
    return {
        "name": card.get("name"),
        "version": card.get("version"),
        "kind": card.get("kind"),
        "architecture": arch.get("name") if isinstance(arch, dict) else arch,
        "val_accuracy": _get(val, "accuracy"),
        "parameters": card.get("parameters"),
        "macs_per_pair": card.get("macs_per_pair"),
        "onnx_bytes": onnx_bytes(card),
        "created": card.get("created"),
    }
