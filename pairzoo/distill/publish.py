"""Registering a distilled run: the usual export, with the teacher recorded in the model's card.

`export_run` builds the card itself and has no field for a teacher, so the registry it is given
adds one as the entry is written: the card gains a "teacher" section (ensemble ref, card sha256,
logits sha256, loss parameters) and everything else is exactly what `pairzoo export` writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.exporting import export_run
from pairzoo.exporting.run_export import run_key
from pairzoo.registry import Card, Registry


class _TeacherRegistry(Registry):
    def __init__(self, root: Path, teacher: dict[str, Any]):
        super().__init__(root)
        self._teacher = teacher

    def add_entry(self, name: str, kind: str, files: dict[str, Path], card: dict[str, Any]) -> Card:
        return super().add_entry(name, kind, files, {**card, "teacher": self._teacher})


def find_registered(registry: Registry, run_dir: Path) -> Card | None:
    """The model card already registered from this run (same config hash and model.pt), if any."""
    key = run_key(run_dir)
    for card in registry.list(kind="model"):
        source = card.section("source")
        if "teacher" in card and (source.get("config_hash"), source.get("model_pt_sha256")) == key:
            return card
    return None


def register_student(
    registry: Registry, run_dir: Path, teacher: dict[str, Any], name: str | None
) -> tuple[Card, bool]:
    """(card, newly registered): export and register `run_dir` unless the registry holds it."""
    held = find_registered(registry, run_dir)
    if held is not None:
        return held, False
    return export_run(run_dir, _TeacherRegistry(registry.root, teacher), name=name), True
