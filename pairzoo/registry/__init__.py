"""The model registry: immutable, hash-checked entries indexed by a file-locked catalogue.

Layout of a registry directory::

    catalogue.json          index of every entry (and of removed version numbers)
    .catalogue.lock         writer lock (filelock)
    NAME/VERSION/card.json  the entry's card (its sha256 is kept in the catalogue)
    NAME/VERSION/...        the entry's files (each sha256 is kept in the card)

Versions count up from 1 per name and are never reused or changed. Nothing is loaded from an
entry before its card and files have been checked against the recorded hashes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairzoo.errors import RegistryError
from pairzoo.registry import index, store
from pairzoo.registry.card import (
    CARD_FILE,
    Card,
    check_arcname,
    check_name,
    format_ref,
    parse_ref,
    read_card,
    sha256_bytes,
)
from pairzoo.registry.verify import verify
from pairzoo.runtime.providers import create_session
from pairzoo.runtime.safety import check_self_contained

__all__ = ["REGISTRY_ENV", "Card", "OpenedModel", "Registry", "default_registry_dir"]

REGISTRY_ENV = "PAIRZOO_REGISTRY"


def valid_name(name: Any) -> bool:
    try:
        check_name(name)
    except RegistryError:
        return False
    return True


def default_registry_dir() -> Path:
    """$PAIRZOO_REGISTRY, else ./registry."""
    return Path(os.environ.get(REGISTRY_ENV) or "registry")


@dataclass
class OpenedModel:
    """An onnxruntime session over a verified entry, and the provider it really runs on."""

    session: Any
    card: Card
    provider: str
    note: str | None = None  # set when onnxruntime fell back from the provider asked for

    def logits(self, xa, xb, batch_size: int = 4096):
        """Run the entry on float32 (N, 1, 28, 28) arrays; returns float32 (N,) logits."""
        import numpy as np

        output = self.session.get_outputs()[0].name
        parts = [
            self.session.run(
                [output], {"xa": xa[i : i + batch_size], "xb": xb[i : i + batch_size]}
            )[0]
            for i in range(0, len(xa), batch_size)
        ]
        return np.concatenate(parts).reshape(-1) if parts else np.zeros(0, np.float32)


class Registry:
    def __init__(self, path: str | os.PathLike | None = None):
        self.root = Path(path) if path is not None else default_registry_dir()

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # ---- reading -------------------------------------------------------------------------

    def list(self, kind: str | None = None) -> list[Card]:
        """Every entry's card (hash-checked), sorted by name and version; optionally one kind."""
        rows = index.read(self.root)["entries"]
        cards = [
            self._load_card(row) for row in sorted(rows, key=lambda r: (r["name"], r["version"]))
        ]
        return [c for c in cards if kind is None or c.kind == kind]

    def check_catalogue(self) -> None:
        """Raise RegistryError now if the catalogue is unreadable (before any long work)."""
        index.read(self.root)

    def resolve(self, ref: str) -> Card:
        """The card of `name@version`, or of the latest version of `name`."""
        return self._load_card(self._row(ref))

    def entry_dir(self, card: Mapping[str, Any]) -> Path:
        card = _as_card(card)
        return store.entry_path(self.root, card.name, card.version)

    def file_path(self, card: Mapping[str, Any], arcname: str | None = None) -> Path:
        """Path of one of the entry's files (default: its main ONNX file)."""
        card = _as_card(card)
        arcname = arcname or card.onnx
        if arcname not in card.files:
            card_path = self.entry_dir(card) / CARD_FILE
            what = f"file '{arcname}'" if arcname else "main ONNX file (key 'onnx')"
            raise RegistryError(f"{card_path}: {card.ref} has no {what} among its files")
        return self.entry_dir(card) / check_arcname(arcname)

    def check_files(self, card: Card) -> None:
        """Recompute the sha256 of every file of the entry; raises RegistryError on any mismatch."""
        for arcname in sorted(card.files):
            self._read_checked(card, arcname)

    def read_file(self, card: Card, arcname: str | None = None) -> bytes:
        """The bytes of one file of the entry, refused unless they match the card's sha256
        (and, for the main ONNX file, unless it is self-contained: no external data)."""
        return self._read_checked(card, arcname or card.onnx)

    def verify(self):
        return verify(self.root)

    # ---- writing -------------------------------------------------------------------------

    def add_entry(self, name: str, kind: str, files: dict[str, Path], card: dict[str, Any]) -> Card:
        """Register `files` with `card` as the next version of `name`; returns the final card.

        Fills name, version, kind, files ({arcname: {sha256, bytes}}), created and
        pairzoo_version; the files are copied, so the caller may delete its own.
        """
        return Card(store.add(self.root, name, kind, {a: Path(p) for a, p in files.items()}, card))

    def remove(self, ref: str) -> dict[str, Any]:
        """Remove `name@version` (a version is required); its number is never reused."""
        name, version = parse_ref(ref)
        if version is None:
            raise RegistryError(f"'{ref}': give the version to remove, as NAME@VERSION")
        return store.remove(self.root, name, version)

    # ---- loading -------------------------------------------------------------------------

    def open_session(self, ref_or_card, require_provider: str | None = None) -> OpenedModel:
        """Check the card and the ONNX file against their hashes, then open an onnxruntime session.

        :param require_provider: None (CUDA if usable, else CPU), "cpu", or "cuda" (fails instead
            of falling back to CPU).
        """
        if isinstance(ref_or_card, Mapping):
            ref_or_card = _as_card(ref_or_card).ref
        card = self.resolve(ref_or_card)  # never trust a card handed in: re-read and check it
        if not card.onnx:
            raise RegistryError(f"{card.ref}: card names no onnx file")
        model = self.read_file(card, card.onnx)
        what = f"{self.file_path(card)} ({card.ref})"
        session, provider, note = create_session(model, require_provider, what=what)
        return OpenedModel(session=session, card=card, provider=provider, note=note)

    # ---- internals -----------------------------------------------------------------------

    def _row(self, ref: str) -> dict[str, Any]:
        name, version = parse_ref(ref)
        cat = index.read(self.root)
        rows = index.find(cat, name, None)
        if not rows:
            names = sorted({e["name"] for e in cat["entries"]})
            raise RegistryError(
                f"no entry named '{name}' in registry {self.root} "
                f"(available: {', '.join(names) or 'none'})"
            )
        if version is None:
            return rows[-1]
        for row in rows:
            if row["version"] == version:
                return row
        versions = ", ".join(str(r["version"]) for r in rows)
        removed = version in index.used_versions(cat, name)
        why = "was removed" if removed else "does not exist"
        raise RegistryError(
            f"'{format_ref(name, version)}' {why} in registry {self.root} (versions: {versions})"
        )

    def _load_card(self, row: dict[str, Any]) -> Card:
        if not valid_name(row["name"]):  # a row's dir is NAME/VERSION: a bad name could leave root
            raise RegistryError(
                f"{self.root / index.CATALOGUE_FILE}: entry name {row['name']!r} is not a "
                "valid registry name (letters, digits, '_', '.', '-'); refusing to read "
                f"{row['dir']!r}"
            )
        path = self.root / row["dir"] / CARD_FILE
        card, digest = read_card(path)
        if digest != row["card_sha256"]:
            raise RegistryError(
                f"{path}: card sha256 {digest[:12]}… differs from the catalogue's "
                f"{row['card_sha256'][:12]}…; the card was changed after registration, refusing to "
                "use it (see `pairzoo registry verify`)"
            )
        if card.name != row["name"] or card.version != row["version"]:
            raise RegistryError(
                f"{path}: card names {card.ref}, expected {format_ref(row['name'], row['version'])}"
            )
        return card

    def _read_checked(self, card: Card, arcname: str) -> bytes:
        path = self.file_path(card, arcname)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise RegistryError(
                f"{path}: file of {card.ref} is missing (see `pairzoo registry verify`)"
            ) from None
        want, got = card.files[arcname].get("sha256"), sha256_bytes(data)
        if got != want:
            raise RegistryError(
                f"{path}: sha256 {got[:12]}… does not match the card's {str(want)[:12]}…; the file "
                "was modified or corrupted, refusing to load it (see `pairzoo registry verify`)"
            )
        if arcname == card.onnx:  # whoever reads it next (onnx, a quantizer) gets it whole
            check_self_contained(data, f"{path} ({card.ref})")
        return data


def _as_card(card: Mapping[str, Any]) -> Card:
    return card if isinstance(card, Card) else Card(card)
