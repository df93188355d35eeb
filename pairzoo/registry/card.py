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
    try:
        card = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: card is not valid JSON ({exc})") from None
    if not isinstance(card, dict):
        raise RegistryError(f"{path}: card is a {type(card).__name__}, expected a JSON object")
    return card, sha256_bytes(data)


def onnx_bytes(card: dict[str, Any]) -> int | None:
    main = card.get("onnx")
    info = card.get("files", {}).get(main) if main else None
    return info.get("bytes") if info else None


def summary(card: dict[str, Any]) -> dict[str, Any]:
    """The listing row for `registry ls`."""
    arch = card.get("architecture") or {}
    val = (card.get("metrics") or {}).get("val") or {}
    return {
        "name": card.get("name"),
        "version": card.get("version"),
        "kind": card.get("kind"),
        "architecture": arch.get("name") if isinstance(arch, dict) else arch,
        "val_accuracy": val.get("accuracy"),
        "parameters": card.get("parameters"),
        "macs_per_pair": card.get("macs_per_pair"),
        "onnx_bytes": onnx_bytes(card),
        "created": card.get("created"),
    }
