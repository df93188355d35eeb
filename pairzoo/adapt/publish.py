"""Registration of an adaptation: each adapted member exported with its lineage, then the adapted
ensemble. Nothing here runs before the val guard has passed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.adapt.inputs import read_json
from pairzoo.adapt.lineage import SECTION, LineageRegistry
from pairzoo.distill.teacher import card_sha256
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.settings import EvalSettings
from pairzoo.exporting import export_run
from pairzoo.exporting.run_export import run_key
from pairzoo.registry import Registry
from pairzoo.registry.card import Card, ref_of


def lineage_section(ctx: Any, r: int, facts: dict | None) -> dict[str, Any]:
    """The card section that says where an adapted entry came from (round `r` of `ctx`)."""
    return {
        "key": ctx.key,
        "request": ctx.request,
        "parent": ref_of(ctx.parent),
        "parent_card_sha256": card_sha256(ctx.parent),
        "round": r,
        "rounds": ctx.settings.rounds,
        "threshold": ctx.settings.threshold,
        "unlabelled": [{k: f[k] for k in ("name", "sha256", "pairs")} for f in ctx.targets.files],
        "settings": ctx.settings.to_dict(),
        **({"match": ctx.match} if ctx.match else {}),
        **({"pseudo": facts} if facts else {}),
    }


def publish(ctx: Any, report: dict) -> dict[str, Any]:
    """Register the last round's members (those a killed run registered already are reused) and
    the adapted ensemble; returns the ensemble's card."""
    r = ctx.settings.rounds
    refs = []
    for source in ctx.sources:
        run_dir = ctx.work / f"round{r}" / source.card.name
        config = read_json(run_dir / "config.json")
        card = find_adapted(ctx.registry, run_dir)
        if card is None:
            lineage = LineageRegistry(ctx.registry.root, config[SECTION])
            card = export_run(run_dir, lineage, name=source.card.name, data_dir=ctx.labelled["dir"])
            ctx.log(f"registered {ref_of(card)}")
        refs.append(ref_of(card))
    last = report["rounds"][-1]
    lineage = {**lineage_section(ctx, r, last.get("pseudo")), "checks": last}
    name = ctx.parent["name"]
    name = name if name.endswith("-adapted") else f"{name}-adapted"
    settings = EvalSettings(
        ctx.labelled["dir"], ctx.work / "ensemble", models=refs, params=ctx.params, name=name
    )
    run = run_ensemble_eval(LineageRegistry(ctx.registry.root, lineage), settings)
    accuracy = run.card.metrics_of("val")["accuracy"]
    ctx.log(f"registered {ref_of(run.card)} (val {100 * accuracy:.2f}% out of fold)")
    return run.card


def find_adapted(registry: Registry, run_dir: Path) -> Card | None:
    """The adapted member already exported from `run_dir`, if a killed run got that far."""
    key = run_key(run_dir)
    for card in registry.list(kind="model"):
        source = card.section("source")
        if SECTION in card and (source.get("config_hash"), source.get("model_pt_sha256")) == key:
            return card
    return None
