"""Lineage of an adapted entry: which ensemble and files it came from, recorded in its card.

`export_run` and `run_ensemble_eval` build their cards themselves; the registry they are given
adds an "adaptation" section as the entry is written, as distillation adds its teacher.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.registry import Registry

SECTION = "adaptation"


class LineageRegistry(Registry):
    def __init__(self, root: Path, lineage: dict[str, Any]):
        super().__init__(root)
        self._lineage = lineage

    def add_entry(self, name: str, kind: str, files: dict[str, Path], card: dict[str, Any]) -> dict:
        return super().add_entry(name, kind, files, {**card, SECTION: self._lineage})


def adapted_cards(registry: Registry, key: str, kind: str) -> list[dict[str, Any]]:
    """Cards of `kind` that an adaptation with this key registered, oldest first."""
    return [c for c in registry.list(kind=kind) if (c.get(SECTION) or {}).get("key") == key]


def describe(section: dict[str, Any]) -> list[tuple[str, str]]:
    """`registry show` lines for an adaptation section."""
    files = ", ".join(
        f"{f.get('name')} (sha256 {str(f.get('sha256'))[:12]}, {f.get('pairs')} pairs)"
        for f in section.get("unlabelled") or []
    )
    lines = [
        ("adapted from", f"{section.get('parent')} (round {section.get('round')} of "
         f"{section.get('rounds')}, threshold {section.get('threshold')})"),
        ("  unlabelled", files),
    ]  # fmt: skip
    if section.get("parent_member"):
        lines.append(("  member of", str(section["parent_member"])))
    pseudo = section.get("pseudo") or {}
    if pseudo:
        lines.append(
            ("  pseudo-labels", f"{pseudo.get('pseudo_labelled')} of {pseudo.get('target_pairs')} "
             f"pairs (confident share {pseudo.get('confident_share')})")
        )  # fmt: skip
    match = section.get("match") or {}
    if isinstance(match.get("severity"), int | float):
        severity = match.get("severity")
        accuracy = (match.get("two_sample_accuracy") or {}).get(f"{severity:g}")
        generated = (section.get("settings") or {}).get("generated")
        lines.append(
            ("  generated", f"{generated} pairs at severity {severity:g} (two-sample accuracy "
             f"{accuracy} against the unlabelled halves)")
        )  # fmt: skip
    return lines
