"""Leaderboard rows from an evaluation, as plain dicts and as text or Markdown tables."""

from __future__ import annotations

from typing import Any

from pairzoo.ensemble.evaluate import Evaluation
from pairzoo.runtime.runtimes import BASELINE, get_runtime

_COLUMNS = (
    ("val acc", "val", "accuracy"),
    ("val F1", "val", "f1"),
    ("val AUC", "val", "roc_auc"),
    ("test acc", "test_public", "accuracy"),
    ("test F1", "test_public", "f1"),
    ("test AUC", "test_public", "roc_auc"),
)


def leaderboard_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """One JSON-ready row per single model and combiner, in evaluation order; a single model's
    row names the variant it ran as (fp32 or int8) and both variants' speeds here, and the
    runtime it ran in: backend, precision, session options and the candidates' speeds."""
    variants = {m.ref: _variant(m) for m in ev.members}
    runtimes = {m.ref: _runtime(m) for m in ev.members}
    return [
        {
            "method": r.name,
            "kind": r.kind,
            "members": r.members_used,
            "val": r.val,
            "test_public": r.test_public,
            "fold_accuracy": r.fold_accuracy,
            "latency_us_per_pair": round(r.latency_us, 3),
            "winner": r.winner,
            "variant": variants.get(r.name) if r.kind == "single" else None,
            "runtime": runtimes.get(r.name) if r.kind == "single" else None,
        }
        for r in ev.results
    ]


def _variant(member) -> dict[str, Any] | None:
    if member.choice is None:
        return None
    c = member.choice
    return {"chosen": c.chosen, "mode": c.mode, "pairs_per_s": c.to_dict()["pairs_per_s"]}


def _runtime(member) -> dict[str, Any]:
    if member.runtime is not None:
        return member.runtime.to_dict()
    base = get_runtime(BASELINE)
    return {"chosen": BASELINE, "backend": base.backend, "precision": base.precision}


def _variant_cell(row: dict[str, Any]) -> str:
    v = row.get("variant")
    if not v:
        return "-"
    s = v.get("pairs_per_s")
    if not s:
        return v["chosen"]
    return f"{v['chosen']} ({s['fp32']:,.0f}|{s['int8']:,.0f})"


def _cells(row: dict[str, Any]) -> list[str]:
    cells = [("* " if row["winner"] else "  ") + row["method"]]
    for _, split, metric in _COLUMNS:
        value = (row.get(split) or {}).get(metric)
        cells.append("-" if value is None else f"{100 * value:.2f}")
    cells.append(f"{row['latency_us_per_pair']:.1f}")
    cells.append(_variant_cell(row))
    return cells


def _headers() -> list[str]:
    return ["  method", *(c[0] for c in _COLUMNS), "us/pair", VARIANT_HEADER]


VARIANT_HEADER = "variant (fp32|int8 pairs/s)"


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table; the winner (best val out-of-fold accuracy) is starred."""
    table = [_headers()] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]

    def fmt(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    sep = "  ".join("-" * w for w in widths)
    body = [fmt(table[0]), sep]
    for i, line in enumerate(table[1:]):
        if i and rows[i]["kind"] != rows[i - 1]["kind"]:
            body.append(sep)
        body.append(fmt(line))
    body.append("winner (*): best val accuracy, out-of-fold for combiners; test_public never used")
    body.append(
        "variant: what each member ran as; with an int8 variant, both speeds measured on this CPU"
    )
    return "\n".join(body)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    header = ["method", *(c[0] for c in _COLUMNS), "µs/pair", VARIANT_HEADER]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = _cells(row)
        name = cells[0].strip()
        cells[0] = f"**{name[2:]}** (winner)" if row["winner"] else name
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
