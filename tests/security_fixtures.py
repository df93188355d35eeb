"""Hostile inputs for the security tests: checkpoints whose pickle would run code, tampered and
forged registry entries, and ONNX files that point at files outside themselves."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import torch

# ---- checkpoints that would run code when unpickled ---------------------------------------


class CreatesMarker:
    """Unpickling calls open(marker, "w"): the file exists afterwards iff code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class RunsShell:
    """Unpickling calls os.system("touch marker")."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _torch_bytes(obj, legacy: bool = False) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def _with_payload(original: bytes | None, payload) -> dict:
    """The original checkpoint's dict (so the file looks right) with the payload inside."""
    base = torch.load(io.BytesIO(original), weights_only=True) if original else {"format": 1}
    return {**base, "extra": payload}


def _zip_member(original: bytes | None, payload) -> bytes:
    """A genuine torch zip whose data.pkl member is swapped for a hostile pickle."""
    genuine = original or _torch_bytes({"format": 1, "t": torch.zeros(2)})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(genuine)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                data = pickle.dumps({"format": 1, "extra": payload}, protocol=2)
            zout.writestr(info, data)
    return out.getvalue()


# variant -> (original checkpoint bytes or None, marker) -> hostile bytes
VARIANTS = {
    "torch-save": lambda orig, m: _torch_bytes(_with_payload(orig, CreatesMarker(m))),
    "os-system": lambda orig, m: _torch_bytes(_with_payload(orig, RunsShell(m))),
    "plain-pickle": lambda orig, m: pickle.dumps({"format": 1, "extra": RunsShell(m)}),
    "zip-data-pkl": lambda orig, m: _zip_member(orig, CreatesMarker(m)),
    "legacy-format": lambda orig, m: _torch_bytes(_with_payload(orig, CreatesMarker(m)), True),
}


def plant(path: Path, variant: str, marker: Path) -> None:
    """Replace the checkpoint at `path` with its hostile `variant`."""
    original = path.read_bytes() if path.exists() else None
    path.write_bytes(VARIANTS[variant](original, marker))


# ---- registry tampering ---------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_dir(root: Path, ref: str) -> Path:
    name, version = ref.split("@")
    return root / name / version


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def edit_card(root: Path, ref: str, change, forge_catalogue: bool = False) -> dict:
    """Apply `change(card)` to the entry's card.json; with `forge_catalogue`, also rewrite the
    catalogue's card_sha256 so the card matches it (what someone handing over a whole registry
    directory can do)."""
    path = entry_dir(root, ref) / "card.json"
    card = json.loads(path.read_text())
    change(card)
    data = (json.dumps(card, indent=2, sort_keys=True) + "\n").encode()
    path.write_bytes(data)
    if forge_catalogue:
        cat_path = root / "catalogue.json"
        cat = json.loads(cat_path.read_text())
        name, version = ref.split("@")
        for row in cat["entries"]:
            if row["name"] == name and row["version"] == int(version):
                row["card_sha256"] = sha256(data)
        cat_path.write_text(json.dumps(cat, indent=2))
    return card


def onnx_with_external_data(path: Path, location: str) -> Path:
    """A pair model (xa, xb -> logit) whose one weight is stored as external data at `location`."""
    import onnx
    from onnx import TensorProto
    from registry_fixtures import tiny_onnx

    tiny_onnx(path)
    model = onnx.load(str(path))
    weight = model.graph.initializer[0]
    weight.ClearField("float_data")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "4")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    path.write_bytes(model.SerializeToString())
    return path
