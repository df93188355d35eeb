"""One function per record kind, record -> markdown; adding a kind is one `@table("kind")` function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pairzoo.estimate.report import format_estimates
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


@table("realism", makes="pairzoo data compare REAL.npz data/test_public.npz --out DIR")
def realism_table(report: dict[str, Any]) -> str:
    settings, seed = report["settings"], report["seed"]
    rows = []
    for name, t in report["two_sample"].items():
        low, high = t["accuracy_spread"]
        rows.append(
            [
                name,
                str(t["n_per_side"]),
                f"{t['accuracy']:.1%} ({low:.1%}-{high:.1%})",
                f"{t['accuracy_ci95'][0]:.1%}-{t['accuracy_ci95'][1]:.1%}",
                f"{t['roc_auc']:.3f}",
                f"{t['pvalue']:.2g}",
            ]
        )
    headers = ("detector", "images per side", "accuracy (repeats)", "95% CI", "ROC-AUC", "p")
    lines = _markdown(headers, rows)
    names = list(report["two_sample"])
    curve = [
        [f"{r['fraction']:.0%}", str(r["n_per_side"])]
        + ["-" if r[n] is None else f"{r[n]:.1%}" for n in names]
        for r in report["learning_curve"]
    ]
    lines += ["", *_markdown(("part of the sample", "images per side", *names), curve)]
    v = report["verdict"]
    lines += [
        "",
        f"A: `{report['a']['path']}` ({report['a']['pairs']} pairs), B: `{report['b']['path']}` "
        f"({report['b']['pairs']} pairs); seed {seed}, {settings['folds']}-fold cross-fitting, "
        f"{settings['repeats']} repeats. Verdict: {v['detector']}, {v['accuracy']:.1%}, "
        f"p = {v['pvalue']:.2g} (doubled for picking the stronger detector).",
    ]
    return "\n".join(lines)


@table(
    "estimate",
    makes="pairzoo estimate --ensemble --data PUBLIC.npz --json > est.json; "
    "python -m pairzoo.results save estimate est.json",
)
def estimate_table(result: dict[str, Any]) -> str:
    return format_estimates(result)


@table("run", makes="python -m pairzoo.results save run RUN_DIR --command CMD")
def run_table(run: dict[str, Any]) -> str:
    t, a = run["train"], run["arch_params"]
    minutes = 0.0
    rows = []
    for r in run["curve"]:
        minutes += r["time_s"] / 60
        rows.append([str(r["epoch"]), f"{minutes:.1f}", f"{100 * r['train_accuracy']:.2f}",
                     f"{100 * r['val_accuracy']:.2f}"])  # fmt: skip
    lines = [
        f"`{run['name']}`: {run['arch']} {a.get('layers')} at width {a.get('width_mult')}, heads "
        f"{', '.join(a.get('heads') or [])}; {t['epochs']} epochs of {t['subset'] or 'all'} "
        f"{t['pairs']} pairs, batch {t['batch_size']}, lr {t['lr']:g} {t['schedule']}, "
        f"{t['threads']} thread(s), {run['train_dtype']}; {run['macs_per_pair'] / 1e6:.1f} M MACs "
        f"per pair. Val {100 * run['val_accuracy']:.2f}%, test_public "
        f"{100 * run['test_public_accuracy']:.2f}%, after {run['train_time_s'] / 60:.1f} minutes "
        "of training.",
        "",
        *_markdown(("epoch", "training minutes", "train %", "val %"), rows),
    ]
    hidden = run.get("digits_by_hidden") or []
    if hidden:
        cells = [[h["hidden"], str(h["digits"]), f"{100 * h['accuracy']:.1f}"] for h in hidden]
        lines += ["", f"Val digits read: {100 * run['digit_accuracy']:.1f}%; by share of strokes "
                  "the generator's occlusions hid:", "",
                  *_markdown(("hidden", "digits", "read %"), cells)]  # fmt: skip
    return "\n".join(lines)
