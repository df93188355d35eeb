"""`pairzoo eval --ensemble` as a library call: members, data, evaluation, report, plots, entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pairzoo.data.format import load_data_dir
from pairzoo.data.meta import data_fingerprint
from pairzoo.ensemble.entry import save_and_register
from pairzoo.ensemble.evaluate import Evaluation, evaluate
from pairzoo.ensemble.fused_members import plan_fusion
from pairzoo.ensemble.leaderboard import format_table
from pairzoo.ensemble.members import Member, load_members, member_refs
from pairzoo.ensemble.plots import write_plots
from pairzoo.ensemble.report import build_report, write_report
from pairzoo.ensemble.settings import EvalSettings
from pairzoo.errors import DataError
from pairzoo.machine import this_cpu
from pairzoo.registry import Registry
from pairzoo.runtime.choice import GATE_PAIRS
from pairzoo.runtime.sessions import default_workers

# (members, path of the saved meta-learner) -> the card's `estimate` section
Calibrator = Callable[[Sequence[Member], Path], dict[str, Any]]


@dataclass
class EnsembleRun:
    evaluation: Evaluation
    report: dict[str, Any]
    table: str
    card: dict[str, Any] | None
    out_dir: Path


def run_ensemble_eval(
    registry: Registry, settings: EvalSettings, calibrate: Calibrator | None = None
) -> EnsembleRun:
    """Evaluate `settings.models` (default: the latest version of every model), write the report.

    A member with an int8 variant runs as the one `settings.int8` (auto|always|never) picks on
    this CPU, each member in the runtime `settings.runtime` picks (pairzoo.runtime.choice), and
    fp32 members of one shape fused where `settings.fuse` says (pairzoo.ensemble.fused_members).
    `calibrate(members, meta_learner.txt)`, if given, makes the card's section of a label-free
    estimate (pairzoo.estimate.on_register.card_calibrator) from the meta-learner as saved.
    """
    s = settings
    refs = member_refs(registry, s.models)
    val, test = _splits(s.data_dir)
    gate = val.x[:GATE_PAIRS]
    members = load_members(registry, refs, s.threads, s.int8, s.runtime, gate_pairs=gate)
    workers = default_workers(len(members), s.threads)
    fusion = plan_fusion(
        registry,
        members,
        val.x,
        s.fuse,
        s.threads,
        s.batch_size,
        workers,
        y=val.y,
        runtime=s.runtime,
    )
    members = fusion.ran_in(members)
    ev = evaluate(
        members,
        val.x,
        val.y,
        test.x if test is not None else None,
        test.y if test is not None else None,
        params=s.params,
        batch_size=s.batch_size,
        workers=workers,
        fused=fusion.groups,
    )
    out = Path(s.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = {
        "registry": str(registry.root),
        "data": {"path": str(s.data_dir), "fingerprint": _fingerprint(s.data_dir)},
        "threads": s.threads,
        "int8": s.int8,
        "runtime": s.runtime,
        "fuse": fusion.record,
        "cpu": _cpu(),
    }
    report = build_report(ev, context)
    plots = write_plots(ev, out)
    write_report(out, report, plots)
    section = None if calibrate is None else partial(calibrate, members)
    card = save_and_register(
        ev, out, registry if s.register else None, s.name, context["data"], section
    )
    if card is not None:
        report["entry"] = card.ref
        write_report(out, report, plots)
    return EnsembleRun(ev, report, format_table(report["leaderboard"]), card, out)


def _cpu() -> dict[str, Any]:
    cpu = this_cpu()
    return {"model": cpu.model, "flags": list(cpu.flags), "cores": cpu.cores}


def _splits(data_dir: str | Path) -> tuple[Any, Any | None]:
    val = load_data_dir(data_dir, "val")
    if val.y is None:
        raise DataError(
            f"{val.path}: val has no labels (key 'y'); the ensemble is fitted on val labels"
        )
    test = None
    if (Path(data_dir) / "test_public.npz").exists():
        test = load_data_dir(data_dir, "test_public")
    return val, test


def _fingerprint(data_dir: str | Path) -> str | None:
    try:
        return data_fingerprint(data_dir)
    except DataError:
        return None
