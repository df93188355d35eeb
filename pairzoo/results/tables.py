"""One function per record kind, record -> markdown; adding a kind is one `@table("kind")` function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pairzoo.estimate.report import format_estimates
from pairzoo.zoo.summary import (
    ENSEMBLE_HEADERS,
    MODEL_HEADERS,
    _markdown,
    _seconds,
    ensemble_cells,
    model_cells,
)

Renderer = Callable[[dict[str, Any]], str]
TABLES: dict[str, Renderer] = {}
# What a user runs to make the first record of each kind.
MAKES: dict[str, str] = {}
_PHASES = ("train", "export", "ensemble")  # train-all's phases (phases_s), in the order they run
# Short forms for the README: block name -> (the record kind it reads, its renderer).
VIEWS: dict[str, tuple[str, Renderer]] = {}


def table(kind: str, makes: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        TABLES[kind] = fn
        MAKES[kind] = makes
        return fn

    return register


def view(name: str, kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        VIEWS[name] = (kind, fn)
        return fn

    return register


def record_kind(block: str) -> str:
    """The kind of record a results block reads: a view's kind, else the block's own name."""
    return VIEWS[block][0] if block in VIEWS else block


def provenance(record: dict[str, Any]) -> str:
    return (
        f"Measured {record['created'][:10]}, commit `{record['commit']}`, "
        f"CPU {record['cpu']['description']}, command `{record['command']}`."
    )


def render(kind: str, record: dict[str, Any] | None) -> str:
    """The block for `kind` (a record kind or a view of one): its newest record's table and
    provenance, or how to make one."""
    source, fn = VIEWS.get(kind, (kind, TABLES.get(kind)))
    if fn is None:
        known = ", ".join(sorted([*TABLES, *VIEWS]))
        raise KeyError(f"unknown results kind '{kind}' (available: {known})")
    if record is None:
        return (
            f"No `{source}` record has been committed yet; `{MAKES[source]}` makes one in "
            "`results/`."
        )
    return fn(record["data"]).rstrip("\n") + "\n\n" + provenance(record)


@table("train-all", makes="make train-all RECORD=1")
def train_all_table(summary: dict[str, Any]) -> str:
    lines = _markdown(MODEL_HEADERS, [model_cells(r) for r in summary["models"]])
    rows = (summary.get("ensemble") or {}).get("rows") or []
    if rows:
        lines += ["", *_markdown(ENSEMBLE_HEADERS, [ensemble_cells(r) for r in rows])]
    lines += ["", f"Profile `{summary['profile']}`, data `{summary['data']}`; accuracies in %."]
    if summary.get("wall_s") is not None:
        given = summary.get("phases_s") or {}
        order = [k for k in _PHASES if k in given] + sorted(set(given) - set(_PHASES))
        phases = ", ".join(f"{k} {_seconds(given[k])}" for k in order)
        lines[-1] += f" `pairzoo train-all` took {_seconds(summary['wall_s'])}" + (
            f" ({phases})." if phases else "."
        )
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
    lines += _importance_lines(report.get("what_tells_them_apart"))
    v = report["verdict"]
    lines += [
        "",
        f"A: `{_name(report['a'])}` ({report['a']['pairs']} pairs), B: `{_name(report['b'])}` "
        f"({report['b']['pairs']} pairs); seed {seed}, {settings['folds']}-fold cross-fitting, "
        f"{settings['repeats']} repeats. Verdict: {v['detector']}, {v['accuracy']:.1%}, "
        f"p = {v['pvalue']:.2g} (doubled for picking the stronger detector).",
    ]
    return "\n".join(lines)


def _importance_lines(importance: dict[str, Any] | None, shown: int = 6) -> list[str]:
    """The statistics the detector leaned on most (records before it was measured have none)."""
    if not importance:
        return []

    def cell(values) -> str:
        return "-" if values is None else " / ".join(f"{v:.3g}" for v in values)

    rows = [
        [f"`{r['feature']}`", f"{100 * r['importance']:.1f}", cell(r["a"]), cell(r["b"])]
        for r in importance["rows"][:shown]
    ]
    headers = ("statistic", "accuracy lost, points", "A p10 / p50 / p90", "B p10 / p50 / p90")
    return [
        "",
        f"What tells them apart ({importance['detector']} detector: {importance['measure']}):",
        "",
        *_markdown(headers, rows),
    ]


def _name(side: dict[str, Any]) -> str:
    """A compared file as a page shows it: relative paths as given, absolute ones by file name
    (they name the machine that made the record, not a file of the repository)."""
    path = Path(side["path"])
    return path.name if path.is_absolute() else str(path)


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


@view("realism-verdict", kind="realism")
def realism_verdict(report: dict[str, Any]) -> str:
    """Both detectors and the verdict in one paragraph, with the sample size and seed."""
    settings, v = report["settings"], report["verdict"]
    detectors = "; ".join(
        f"{name} {t['accuracy']:.1%} (95% CI {t['accuracy_ci95'][0]:.1%}-"
        f"{t['accuracy_ci95'][1]:.1%})"
        for name, t in report["two_sample"].items()
    )
    n = max(t["n_per_side"] for t in report["two_sample"].values())
    return (
        f"`pairzoo data compare`: {report['a']['pairs']} pairs ({n} digit images per side) of "
        f"`{_name(report['a'])}` against `{_name(report['b'])}`, seed {report['seed']}, "
        f"{settings['folds']}-fold cross-fitting, {settings['repeats']} repeats: {detectors}. "
        f"Verdict: {v['detector']}, {v['accuracy']:.1%} (50% means indistinguishable)."
    )


@view("estimate-ensemble", kind="estimate")
def estimate_ensemble(result: dict[str, Any]) -> str:
    """The ensemble's estimate and interval per file, and the members' range."""
    lines = []
    for f in result["files"]:
        rows = {row["predictor"]: row for row in f["estimates"]}
        top = rows.get("ensemble") or next(iter(rows.values()))
        members = [r["accuracy"] for name, r in rows.items() if name != "ensemble"]
        spread = (
            f"; its {len(members)} members {100 * min(members):.2f}-{100 * max(members):.2f}%"
            if len(members) > 1
            else ""
        )
        lines.append(
            f"{Path(f['file']).name} ({f['pairs']} pairs), {result['kind']} {result['entry']}: "
            f"estimated {100 * top['accuracy']:.2f}% (interval {100 * top['low']:.2f}-"
            f"{100 * top['high']:.2f}%, {top['method']}){spread}."
        )
    return "\n".join(lines)
