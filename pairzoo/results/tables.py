"""One function per record kind, record -> markdown; adding a kind is one `@table("kind")` function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pairzoo.zoo.summary import (
    ENSEMBLE_HEADERS,
    MODEL_HEADERS,
    _markdown,
    ensemble_cells,
    model_cells,
)

Renderer = Callable[[dict[str, Any]], str]
TABLES: dict[str, Renderer] = {}
# What a user runs to make the first record of each kind.
MAKES: dict[str, str] = {}


def table(kind: str, makes: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        TABLES[kind] = fn
        MAKES[kind] = makes
        return fn

    return register


def provenance(record: dict[str, Any]) -> str:
    return (
        f"Measured {record['created'][:10]}, commit `{record['commit']}`, "
        f"CPU {record['cpu']['description']}, command `{record['command']}`."
    )


def render(kind: str, record: dict[str, Any] | None) -> str:
    """The block for `kind`: its newest record's table and provenance, or how to make one."""
    if kind not in TABLES:
        raise KeyError(f"unknown results kind '{kind}' (available: {', '.join(sorted(TABLES))})")
    if record is None:
        return (
            f"No `{kind}` record has been committed yet; `{MAKES[kind]}` makes one in `results/`."
        )
    return TABLES[kind](record["data"]).rstrip("\n") + "\n\n" + provenance(record)


@table("train-all", makes="make train-all RECORD=1")
def train_all_table(summary: dict[str, Any]) -> str:
    lines = _markdown(MODEL_HEADERS, [model_cells(r) for r in summary["models"]])
    rows = (summary.get("ensemble") or {}).get("rows") or []
    if rows:
        lines += ["", *_markdown(ENSEMBLE_HEADERS, [ensemble_cells(r) for r in rows])]
    lines += ["", f"Profile `{summary['profile']}`, data `{summary['data']}`; accuracies in %."]
    return "\n".join(lines)


@table("bench", makes="make bench")
def bench_table(bench: dict[str, Any]) -> str:
    rows = [[b["name"], b["status"], f"{b['seconds']:.1f}"] for b in bench["benchmarks"]]
    lines = _markdown(("benchmark", "status", "wall s"), rows)
    printed = [line for b in bench["benchmarks"] for line in b["output"]]
    return "\n".join([*lines, "", "```text", *printed, "```"])
