"""The adaptation report as a table: one row of checks per round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo.adapt.registered import ensemble_estimate


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def format_report(report: dict[str, Any]) -> str:
    head = "| round | val (out of fold) | confident | agreement with previous | swap consistency |"
    scored = [entry["file"] for entry in report.get("score") or []]
    for path in scored:
        head += f" {Path(path).name} (labelled) |"
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r, c in enumerate(report.get("rounds") or []):
        row = (
            f"| {r}{' (parent)' if r == 0 else ''} | {_pct(c.get('val_accuracy'))} | "
            f"{_pct(c.get('confident_share'))} | {_pct(c.get('agreement_with_previous_round'))} | "
            f"{_pct(c.get('swap_consistency'))} |"
        )
        for path in scored:
            row += f" {_pct((c.get('score_accuracy') or {}).get(path))} |"
        rows.append(row)
    for key, what in (("parent_entry", "parent"), ("registered", "registered")):
        if report.get(key):
            rows.append(_entry_line(report[key], what))
    rows.append(f"adapted {report.get('parent')} on "
                + ", ".join(f"{f['name']} ({f['pairs']} pairs)" for f in report.get("unlabelled", []))
                + f" in {report.get('seconds')} s")  # fmt: skip
    return "\n".join(rows)


def _entry_line(figures: dict[str, Any], what: str) -> str:
    """The entry's figures as `predict` runs it: --score accuracy, the estimate per file."""
    parts = [f"{Path(p).name} {_pct(a)}%" for p, a in figures.get("score_accuracy", {}).items()]
    for name, rows in figures.get("estimate", {}).items():
        row = ensemble_estimate(rows)
        if row:
            parts.append(f"estimated on {name} {_pct(row['accuracy'])}% "
                         f"({_pct(row['low'])}-{_pct(row['high'])}%, {row['method']})")  # fmt: skip
    return f"{what} {figures['entry']} (as predict runs it): " + "; ".join(parts)
