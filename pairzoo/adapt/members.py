"""The PyTorch weights behind a registry ensemble's members, found through their cards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pairzoo.errors import RegistryError
from pairzoo.registry import Registry
from pairzoo.registry.card import Card, ref_of, sha256_file


@dataclass
class SourceMember:
    ref: str  # NAME@VERSION in the registry
    card: Card
    run_dir: Path


def source_members(registry: Registry, ensemble_card: Card) -> list[SourceMember]:
    """Each member's card (ONNX sha256 as the ensemble recorded it) and its source run directory,
    whose model.pt must still be the one that was exported; RegistryError otherwise."""
    out = []
    for m in ensemble_card.members:
        ref = ref_of(m)
        card = registry.resolve(ref)
        onnx_sha = card.onnx_sha256
        if onnx_sha != m["sha256"]:
            raise RegistryError(
                f"member {ref}: ONNX sha256 {str(onnx_sha)[:12]} differs from the ensemble's "
                f"{m['sha256'][:12]}; rebuild the ensemble (pairzoo eval --ensemble)"
            )
        source = card.section("source")
        run_dir = Path(str(source.get("run_dir") or ""))
        model_pt = run_dir / "model.pt"
        if not source.get("run_dir") or not model_pt.is_file():
            raise RegistryError(
                f"member {ref}: its source run '{source.get('run_dir')}' (card key source.run_dir) "
                "has no model.pt here; adapting fine-tunes the PyTorch weights, so run it where "
                "the runs are"
            )
        if sha256_file(model_pt) != source.get("model_pt_sha256"):
            raise RegistryError(
                f"{model_pt}: sha256 differs from the one member {ref} was exported from "
                "(card key source.model_pt_sha256); the run was trained again after the export"
            )
        out.append(SourceMember(ref, card, run_dir))
    return out
