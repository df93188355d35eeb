"""The evaluation report: ``report.json`` (everything) and ``report.md`` (for people)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo import __version__
from pairzoo.atomic import write_json, write_text
from pairzoo.ensemble.evaluate import Evaluation
from pairzoo.ensemble.leaderboard import leaderboard_rows, markdown_table
from pairzoo.metrics import classification_metrics, sigmoid
from pairzoo.registry.card import format_ref


def build_report(ev: Evaluation, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready dict: members, leaderboard, winner, stacker, folds and throughput."""
    latency = ev.member_latency_us()
    stacker = ev.stacker
    importance = stacker.final.feature_importance("gain")
    members = []
    for j, m in enumerate(ev.members):
        test = None
        if ev.test is not None and ev.y_test is not None:
            test = classification_metrics(ev.y_test, sigmoid(ev.test.logits[:, j]))
        members.append(
            {
                "name": m.name,
                "version": m.version,
                "sha256": m.sha256,
                "macs_per_pair": m.macs_per_pair,
                "latency_us_per_pair": round(float(latency[j]), 3),
                "val": classification_metrics(ev.y_val, sigmoid(ev.val.logits[:, j])),
                "test_public": test,
                "stacker_gain": float(importance[j]),
                "variant": _variant(m),
            }
        )
    rows = leaderboard_rows(ev)
    return {
        "format": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "pairzoo_version": __version__,
        **(context or {}),
        "sizes": {"val": ev.val.n, "test_public": ev.test.n if ev.test else 0},
        "members": members,
        "stacking": {**ev.params.to_dict(), "fold_accuracy": stacker.fold_accuracy},
        "leaderboard": rows,
        "winner": ev.winner.name,
        "throughput": throughput(ev),
    }


def _variant(m) -> dict[str, Any] | None:
    """fp32 or int8, the mode that chose it and both speeds here (pairs/s, when measured)."""
    if m.variant is None:
        return None
    return {**m.variant, "summary": m.choice.describe() if m.choice is not None else ""}


def throughput(ev: Evaluation) -> dict[str, Any]:
    matrices = [ev.val] + ([ev.test] if ev.test else [])
    pairs = sum(m.n for m in matrices)
    wall = sum(m.wall_seconds for m in matrices)
    macs = [m.macs_per_pair for m in ev.members]
    out: dict[str, Any] = {
        "pairs": pairs,
        "models": len(ev.members),
        "batch_size": ev.val.batch_size,
        "seconds": round(wall, 4),
        "pairs_per_second": round(pairs / wall, 1) if wall > 0 else None,
        "prep_seconds": round(sum(m.prep_seconds for m in matrices), 4),
    }
    if all(isinstance(v, int) for v in macs) and wall > 0:
        out["gflops"] = round(2 * sum(macs) * pairs / wall / 1e9, 2)
    return out


def render_markdown(report: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    t = report["throughput"]
    lines = [
        "# Ensemble evaluation",
        "",
        f"Winner (best val accuracy, out-of-fold for every combiner): **{report['winner']}**. "
        "test_public is shown alongside and never used for any choice.",
        "",
        markdown_table(report["leaderboard"]),
        "",
        "Latency: microseconds per pair of the members used (measured in this evaluation's "
        "onnxruntime pass) plus the combiner's own time. The fitted LightGBM stacker is saved as "
        "meta_learner.txt"
        + (f" and registered as **{report['entry']}**." if report.get("entry") else "."),
        "",
        "## Members",
        "",
        "| member | sha256 | MACs/pair | µs/pair | stacker gain |",
        "|---|---|---|---|---|",
    ]
    for m in report["members"]:
        ref = format_ref(m["name"], m["version"])
        lines.append(
            f"| {ref} | `{m['sha256'][:12]}` | {m['macs_per_pair'] or '-'} | "
            f"{m['latency_us_per_pair']:.1f} | {m['stacker_gain']:.1f} |"
        )
    s = report["stacking"]
    folds = ", ".join(f"{100 * a:.2f}" for a in s["fold_accuracy"])
    lines += [
        "",
        "## Stacker",
        "",
        f"LightGBM, {s['n_estimators']} trees, learning rate {s['learning_rate']}, max depth "
        f"{s['max_depth']}, {s['num_leaves']} leaves, seed {s['seed']}; {s['folds']}-fold "
        f"stratified CV on val (fold accuracy %: {folds}); refit on all of val.",
        "",
        "## Throughput",
        "",
        f"{t['pairs']} pairs x {t['models']} models in {t['seconds']} s: "
        f"{t['pairs_per_second']} pairs/s (batch {t['batch_size']}; each member's runtime in its row)"
        + (f", {t['gflops']} GFLOP/s." if "gflops" in t else "."),
    ]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{k}]({v})" for k, v in plots.items()]
    return "\n".join(lines) + "\n"


def write_report(
    out_dir: str | Path, report: dict[str, Any], plots: dict[str, str] | None = None
) -> None:
    out = Path(out_dir)
    write_json(out / "report.json", _plain(report))
    write_text(out / "report.md", render_markdown(report, plots))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
