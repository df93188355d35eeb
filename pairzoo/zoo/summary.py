"""The zoo's final table: ``runs/summary.json``, ``runs/summary.md`` and the text printed at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pairzoo import __version__
from pairzoo.atomic import write_json, write_text
from pairzoo.machine import this_cpu
from pairzoo.zoo.budget import pairs_range
from pairzoo.zoo.runner import ENSEMBLE_DIR, OK_STATUSES, ModelOutcome, ZooResult

STACKER = "stacking (LightGBM)"
BEST_SINGLE = "best single"


def build_summary(result: ZooResult, curves: dict[str, str] | None = None) -> dict[str, Any]:
    """A JSON-ready dict: one row per model, the ensemble's rows, wall times, and `ok`."""
    spec = result.spec
    return {
        "format": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "pairzoo_version": __version__,
        "zoo": spec.path,
        "profile": spec.profile,
        "profile_description": spec.profile_description,
        "data": str(result.data_dir),
        "runs": str(result.runs_dir),
        "registry": str(result.registry_dir),
        "cpu": this_cpu().describe(),  # times and training precision depend on it
        "min_val_accuracy": spec.settings["min_val_accuracy"],
        "models": [_model_row(m) for m in result.models],
        "ensemble": _ensemble_section(result),
        "wall_s": round(result.wall_s, 1),
        "phases_s": {k: round(v, 1) for k, v in result.phases_s.items()},
        # the training time budget's choice of pairs per epoch (pairzoo/zoo/budget.py), if any
        "budget": asdict(result.budget) if result.budget else None,
        "curves": curves or {},
        "ok": result.ok,
    }


def _model_row(m: ModelOutcome) -> dict[str, Any]:
    metrics = m.metrics or {}
    best = next((r for r in m.history if r["epoch"] == metrics.get("best_epoch")), None)
    return {
        "name": m.name,
        "stage": m.stage,
        "description": m.description,
        "start_from": m.start_from,
        "status": m.status,
        "error": m.error,
        "train_accuracy": best["train_accuracy"] if best else None,
        "val": metrics.get("val"),
        "test_public": metrics.get("test_public"),
        "params": metrics.get("params"),
        "macs_per_pair": metrics.get("macs_per_pair"),
        "train_time_s": metrics.get("train_time_s"),
        "train_dtype": metrics.get("train_dtype"),
        "epochs_run": metrics.get("epochs_run"),
        "best_epoch": metrics.get("best_epoch"),
        "wall_s": round(m.wall_s, 1),
        "registry": m.ref,
        "export": m.export,
        "export_error": m.export_error,
    }


def _ensemble_section(result: ZooResult) -> dict[str, Any]:
    section: dict[str, Any] = {
        "status": result.ensemble_status,
        "error": result.ensemble_error,
    }
    report = result.ensemble
    if not report:
        return section
    rows = [
        {
            "method": r["method"],
            "kind": r["kind"],
            "val_accuracy": (r.get("val") or {}).get("accuracy"),
            "test_public_accuracy": (r.get("test_public") or {}).get("accuracy"),
            "members": len(r.get("members") or []),
            "winner": r.get("winner", False),
        }
        for r in report["leaderboard"]
        if r["kind"] == "ensemble"
    ]
    stack = next((r for r in rows if r["method"] == STACKER), None)
    best = next((r for r in rows if r["method"] == BEST_SINGLE), None)
    section.update(
        {
            "report": f"{ENSEMBLE_DIR}/report.md",
            "entry": report.get("entry"),
            "winner": report.get("winner"),
            "rows": rows,
            "stacking_beats_best_single": (
                stack["val_accuracy"] > best["val_accuracy"] if stack and best else None
            ),
            "inference_pairs_per_s": (report.get("throughput") or {}).get("pairs_per_second"),
        }
    )
    return section


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _count(value) -> str:
    if value is None:
        return "-"
    if value >= 1e9:
        return f"{value / 1e9:.2f}G"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return str(value)


def _seconds(value) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(int(round(value)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


MODEL_HEADERS = (
    "model",
    "stage",
    "status",
    "train",
    "val",
    "test_public",
    "params",
    "MACs",
    "time",
)
ENSEMBLE_HEADERS = ("ensemble (val out-of-fold)", "members", "val", "test_public")


def model_cells(row: dict[str, Any]) -> list[str]:
    return [
        row["name"],
        str(row["stage"]),
        row["status"] + (f" (export {row['export']})" if row["export"] == "failed" else ""),
        _pct(row["train_accuracy"]),
        _pct((row["val"] or {}).get("accuracy")),
        _pct((row["test_public"] or {}).get("accuracy")),
        _count(row["params"]),
        _count(row["macs_per_pair"]),
        _seconds(row["train_time_s"]),
    ]


def ensemble_cells(row: dict[str, Any]) -> list[str]:
    return [
        ("* " if row["winner"] else "") + row["method"],
        str(row["members"]),
        _pct(row["val_accuracy"]),
        _pct(row["test_public_accuracy"]),
    ]


def _text_table(headers, rows) -> list[str]:
    table = [list(headers), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(table):
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_summary(summary: dict[str, Any]) -> str:
    """The table printed at the end of `pairzoo train-all`."""
    lines = [f"zoo {summary['zoo']}, profile {summary['profile']}, data {summary['data']}", ""]
    lines += _text_table(MODEL_HEADERS, [model_cells(r) for r in summary["models"]])
    lines.append("accuracies in %; train = running training accuracy of the best epoch")
    lines.append(_machine_line(summary))
    for row in summary["models"]:
        if row["error"] or row["export_error"]:
            lines.append(f"  {row['name']}: {row['error'] or row['export_error']}")
    ens = summary["ensemble"]
    lines.append("")
    if ens.get("rows"):
        lines += _text_table(ENSEMBLE_HEADERS, [ensemble_cells(r) for r in ens["rows"]])
        lines.append(
            "* winner on val; test_public is never used for any choice. "
            f"Report: {Path(summary['runs']) / ens['report']}"
        )
    else:
        lines.append(f"ensemble: {ens['status']}" + (f": {ens['error']}" if ens["error"] else ""))
    phases = ", ".join(f"{k} {_seconds(v)}" for k, v in summary["phases_s"].items())
    lines += ["", f"total wall time {_seconds(summary['wall_s'])} ({phases})"]
    lines += budget_lines(summary)
    failed = [
        r["name"] for r in summary["models"] if r["status"] not in OK_STATUSES or r["export_error"]
    ]
    if failed:
        lines.append(f"FAILED: {', '.join(failed)}")
    if ens["status"] == "failed":
        lines.append("FAILED: ensemble")
    return "\n".join(lines)


def _machine_line(summary: dict[str, Any]) -> str:
    """Where the times were measured, and the precision training ran in there."""
    dtypes = Counter(r.get("train_dtype") for r in summary["models"] if r.get("train_dtype"))
    trained = ", ".join(f"{dtype} ({n})" for dtype, n in sorted(dtypes.items()))
    line = f"CPU: {summary.get('cpu', 'not recorded')}"
    return line + (f"; training precision (models): {trained}" if trained else "")


def _markdown(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def render_markdown(summary: dict[str, Any]) -> str:
    lines = [
        "# Zoo summary",
        "",
        f"Zoo `{summary['zoo']}`, profile **{summary['profile']}**"
        + (f" ({summary['profile_description']})" if summary["profile_description"] else "")
        + f", data `{summary['data']}`, pairzoo {summary['pairzoo_version']}, {summary['created']}.",
        "",
        "## Models",
        "",
    ]
    lines += _markdown(MODEL_HEADERS, [model_cells(r) for r in summary["models"]])
    lines += [
        "",
        "Accuracies in %. train is the running training accuracy of the best epoch (measured "
        "during the epoch, with its augmentation); "
        f"a model at or below {100 * summary['min_val_accuracy']:.0f}% val accuracy has failed "
        "to learn." + _chains_sentence(summary["models"]),
        "",
        _machine_line(summary) + ".",
    ]
    errors = [r for r in summary["models"] if r["error"] or r["export_error"]]
    if errors:
        lines += ["", "## Failures", ""]
        lines += [f"- **{r['name']}**: {r['error'] or r['export_error']}" for r in errors]
    ens = summary["ensemble"]
    lines += ["", "## Ensemble", ""]
    if ens.get("rows"):
        lines += _markdown(ENSEMBLE_HEADERS, [ensemble_cells(r) for r in ens["rows"]])
        lines += [
            "",
            "Combiners are scored out-of-fold on val; * marks the winner on val. "
            f"Full report: [{ens['report']}]({ens['report']}).",
        ]
    else:
        lines.append(f"{ens['status']}" + (f": {ens['error']}" if ens["error"] else ""))
    if summary["curves"]:
        lines += ["", "## Learning curves", ""]
        lines += [f"![{name}]({path})" for name, path in summary["curves"].items()]
    phases = ", ".join(f"{k} {_seconds(v)}" for k, v in summary["phases_s"].items())
    lines += ["", f"Total wall time {_seconds(summary['wall_s'])} ({phases})."]
    lines += budget_lines(summary)
    return "\n".join(lines) + "\n"


def write_summary(runs_dir: str | Path, summary: dict[str, Any]) -> None:
    runs = Path(runs_dir)
    write_json(runs / "summary.json", summary)
    write_text(runs / "summary.md", render_markdown(summary))


def budget_lines(summary: dict[str, Any]) -> list[str]:
    """The training budget's plan beside what training really took (nothing without a budget)."""
    plan = summary.get("budget")
    if not plan:
        return []
    took = summary["phases_s"].get("train")
    return [
        f"budget: {plan['train_minutes']:g} min of training, {plan['jobs']} models at once: "
        f"{pairs_range(plan['pairs'])} pairs per epoch ({plan['scale']:.0%} of the zoo file's); predicted "
        f"{_seconds(plan['predicted_s'])}, took {_seconds(took) if took is not None else '-'}"
    ]


def _chains_sentence(models: list[dict[str, Any]]) -> str:
    """Which models started from another one's trained weights (the zoo file's start_from)."""
    chained = [f"{m['name']} from {m['start_from']}" for m in models if m.get("start_from")]
    if not chained:
        return ""
    return " Started from another model's trained weights: " + "; ".join(chained) + "."
