"""The adaptation report as a table: one row of checks per round."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
    rows.append(f"adapted {report.get('parent')} on "
                + ", ".join(f"{f['name']} ({f['pairs']} pairs)" for f in report.get("unlabelled", []))
                + f" in {report.get('seconds')} s")  # fmt: skip
    return "\n".join(rows)
