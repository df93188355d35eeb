"""``study.json`` (every trial: number, state, params, value, duration) and the printed table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pairzoo import __version__
from pairzoo.tune.objective import trial_dir_name

COUNTED = ("COMPLETE", "PRUNED")  # states that count towards --trials


def trial_row(trial, out: Path) -> dict[str, Any]:
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    run_dir = Path("trials") / trial_dir_name(trial.number)
    return {
        "number": trial.number,
        "state": trial.state.name,
        "params": dict(trial.params),
        "value": trial.value,
        "epochs": len(trial.intermediate_values),
        "duration_s": None if duration is None else round(duration, 2),
        "run_dir": str(run_dir) if (out / run_dir).exists() else None,
        **{k: v for k, v in trial.user_attrs.items() if k in ("error", "best_epoch", "baseline")},
    }


def build_summary(study, out: Path, info: dict[str, Any], best_number: int | None) -> dict:
    """A JSON-ready dict of the study as it stands; `info` holds the command's settings."""
    rows = [trial_row(t, out) for t in study.get_trials(deepcopy=False)]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    best = next((r for r in rows if r["number"] == best_number), None)
    return {
        "format": 1,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "pairzoo_version": __version__,
        "study": study.study_name,
        **info,
        "metric": "val accuracy of the best epoch (maximised)",
        "counts": counts,
        "counted": sum(counts.get(s, 0) for s in COUNTED),
        "best": None if best is None else {**best, "run_dir": "best"},
        "trials": rows,
    }


def table(summary: dict) -> str:
    """The trials as a plain-text table, best first among the finished ones, then why each
    failed trial failed."""
    rows = sorted(
        summary["trials"],
        key=lambda r: (r["state"] != "COMPLETE", -(r["value"] or 0.0), r["number"]),
    )
    keys = sorted({k for r in rows for k in r["params"]})
    head = ["trial", "state", "val", "epochs", "time"] + keys
    lines = [head]
    for r in rows:
        lines.append(
            [
                str(r["number"]),
                r["state"].lower(),
                "-" if r["value"] is None else f"{r['value']:.4f}",
                str(r["epochs"]),
                _secs(r["duration_s"]),
            ]
            + [_fmt(r["params"].get(k)) for k in keys]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text += [f"trial {r['number']} failed: {r['error']}" for r in rows if r.get("error")]
    return "\n".join(text)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"
