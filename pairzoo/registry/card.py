"""Registry cards: canonical bytes, hashing, names and references, and the listing summary."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pairzoo.errors import RegistryError

CARD_FILE = "card.json"
KINDS = ("model", "ensemble")  # known kinds; variants (e.g. "model-int8") follow _KIND
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RESERVED = {"catalogue.json", "README.md"}  # files at the registry root
_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def card_bytes(card: Mapping[str, Any]) -> bytes:
    """The exact bytes written to card.json (and hashed into the catalogue)."""
    return (json.dumps(dict(card), indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


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


def read_card(path: Path) -> tuple[Card, str]:
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
    return Card(card), sha256_bytes(data)


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


def format_ref(name: str, version: int | None) -> str:
    """`name@version`, or `name` alone when no version is given (the latest)."""
    return name if version is None else f"{name}@{version}"


def ref_of(row: Mapping[str, Any]) -> str:
    """`name@version` of any mapping that names an entry: a card, an ensemble's member row."""
    return format_ref(row["name"], row["version"])


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Card(Mapping[str, Any]):
    """A registry entry's card.json as the registry read or wrote it.

    Typed properties for what pairzoo reads; every key (unknown ones too) stays reachable as a
    read-only mapping, so a card round-trips byte for byte (`card_bytes`). Only `name`,
    `version`, `files` and `onnx` are checked at read time (`check_card_shape`); the optional
    sections tolerate any JSON, reading as empty when they are not objects.
    """

    __slots__ = ("_doc",)

    def __init__(self, doc: Mapping[str, Any]):
        self._doc = copy.deepcopy(dict(doc))

    def __getitem__(self, key: str) -> Any:
        return self._doc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc)

    def __len__(self) -> int:
        return len(self._doc)

    def __repr__(self) -> str:
        return f"Card({self.ref})"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the whole card, unknown keys included (what card.json holds)."""
        return copy.deepcopy(self._doc)

    @property
    def name(self) -> str:
        return self._doc["name"]

    @property
    def version(self) -> int:
        return self._doc["version"]

    @property
    def ref(self) -> str:
        """`name@version`: how commands and messages name the entry."""
        return format_ref(self.name, self.version)

    @property
    def kind(self) -> str | None:
        return self._doc.get("kind")

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """{arcname: {"sha256": str, "bytes": int}} of the entry's files."""
        return _dict(self._doc.get("files"))

    @property
    def onnx(self) -> str | None:
        """Arcname of the main ONNX file, if the entry has one."""
        return self._doc.get("onnx") or None

    @property
    def onnx_file(self) -> dict[str, Any]:
        """The files row of the main ONNX file ({} if none)."""
        return _dict(self.files.get(self.onnx)) if self.onnx else {}

    @property
    def onnx_sha256(self) -> str | None:
        return self.onnx_file.get("sha256")

    @property
    def onnx_bytes(self) -> int | None:
        size = self.onnx_file.get("bytes")
        return size if isinstance(size, int) and not isinstance(size, bool) else None

    @property
    def created(self) -> str | None:
        return self._doc.get("created")

    @property
    def pairzoo_version(self) -> str | None:
        return self._doc.get("pairzoo_version")

    @property
    def members(self) -> list[dict[str, Any]]:
        """An ensemble's member rows ({name, version, sha256, variants}); [] for a model."""
        members = self._doc.get("members")
        return members if isinstance(members, list) else []

    def section(self, key: str) -> dict[str, Any]:
        """An optional object of the card (architecture, loss, data, source, metrics, parity,
        timings, quantization, ...); {} when absent or not an object."""
        return _dict(self._doc.get(key))

    def metrics_of(self, split: str) -> dict[str, Any]:
        """The metrics of one split (val, test_public), {} if the card has none."""
        return _dict(self.section("metrics").get(split))


def summary(card: Card) -> dict[str, Any]:
    """The listing row for `registry ls` (tolerates any JSON in the card's optional keys)."""
    arch = card.get("architecture")
    return {
        "name": card.name,
        "version": card.version,
        "kind": card.kind,
        "architecture": arch.get("name") if isinstance(arch, dict) else arch or None,
        "val_accuracy": card.metrics_of("val").get("accuracy"),
        "parameters": card.get("parameters"),
        "macs_per_pair": card.get("macs_per_pair"),
        "onnx_bytes": card.onnx_bytes,
        "created": card.created,
    }
