"""`pairzoo ensemble`: evaluate and stack registry models, export an ensemble as one ONNX file,
and predict with it. `eval --ensemble`, `export --ensemble` and `predict --ensemble` lead here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from pairzoo.cli.options import (
    eval_fuse_option,
    file_runtime_option,
    fuse_option,
    int8_option,
    member_runtime_option,
    registry_option,
    trees_option,
)
from pairzoo.cli.predict_output import predict_options, predict_with_options
from pairzoo.registry.card import ref_of

if TYPE_CHECKING:
    from pairzoo.ensemble.settings import EvalSettings, ExportSettings
    from pairzoo.registry import Registry

# onnxruntime's batch (pairzoo.runtime.logits.DEFAULT_BATCH), not PyTorch's
ONNX_BATCH = 64


@click.group("ensemble")
def ensemble() -> None:
    """Evaluate and stack registry models, export an ensemble, predict with it."""


def _data_option(f):
    return click.option(
        "--data",
        default="data",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Data directory",
    )(f)


def _threads_option(f):
    return click.option(
        "--threads",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="onnxruntime intra-op threads per model",
    )(f)


def _eval_options(f):
    """What `ensemble eval` takes beyond the data, batch and --json."""
    options = [
        registry_option,
        click.option(
            "--models", help="Comma-separated members, NAME[@VERSION] each (default: --all)"
        ),
        click.option(
            "--all",
            "all_models",
            is_flag=True,
            help="Use the latest version of every registry model",
        ),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False),
            default="reports/ensemble",
            show_default=True,
            help="Directory for report.json, report.md, plots and the meta-learner",
        ),
        click.option(
            "--folds",
            type=click.IntRange(2, 50),
            default=5,
            show_default=True,
            help="Stratified cross-validation folds on val",
        ),
        click.option(
            "--seed",
            type=int,
            default=42,
            show_default=True,
            help="Seed of the folds and the meta-learner",
        ),
        click.option(
            "--trees",
            type=click.IntRange(1),
            default=100,
            show_default=True,
            help="Meta-learner trees",
        ),
        click.option(
            "--name",
            "entry_name",
            default="ensemble",
            show_default=True,
            help="Registry name of the ensemble entry",
        ),
        click.option(
            "--no-register", is_flag=True, help="Write the report but add no registry entry"
        ),
        _threads_option,
        int8_option,
        member_runtime_option,
        eval_fuse_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


@ensemble.command("eval")
@_data_option
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=ONNX_BATCH,
    show_default=True,
    help="Pairs per onnxruntime call",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
@_eval_options
def ensemble_eval(**options) -> None:
    """Evaluate registry models through onnxruntime, stack them (LightGBM, cross-validated on
    val) beside the baselines, write the leaderboard report and register the ensemble."""
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.registry import Registry

    settings = _eval_settings(options)
    result = run_ensemble_eval(Registry(options["registry_dir"]), settings)
    if options["as_json"]:
        click.echo(json.dumps(result.report, indent=2, sort_keys=True))
        return
    _show_eval(result, settings.threads)


def _eval_settings(options: dict[str, Any]) -> EvalSettings:
    """`ensemble eval`'s options (click's names) as pairzoo.ensemble.settings.EvalSettings."""
    from pairzoo.ensemble.settings import EvalSettings
    from pairzoo.ensemble.stacking import StackingParams

    o = options
    if o["models"] and o["all_models"]:
        raise click.UsageError("give --models or --all, not both")
    refs = [m for m in o["models"].split(",") if m.strip()] if o["models"] else None
    return EvalSettings(
        o["data"],
        o["out_dir"],
        models=refs,
        params=StackingParams(folds=o["folds"], seed=o["seed"], n_estimators=o["trees"]),
        name=o["entry_name"],
        batch_size=o["batch_size"],
        threads=o["threads"],
        register=not o["no_register"],
        int8=o["int8"],
        runtime=o["runtime"],
        fuse=o["fuse"],
    )


def _fusion_line(fusion: dict[str, Any]) -> str:
    """How the members ran: separate, fused by shape or in one graph, what was tried, and the
    speeds behind an auto pick."""
    groups = ", ".join(f"{len(g['members'])} in {g['runtime']}" for g in fusion["groups"])
    text = f"{fusion['members']} (groups of one shape tried: {groups or 'none'}, --fuse {fusion['mode']})"
    failed = [g for g in fusion["groups"] if g.get("failed_gate")]
    if failed:
        text += f"; {len(failed)} failed the gate, run separate"
    whole = fusion.get("whole")
    if whole:
        why = whole.get("failed_gate") or whole.get("not_built")
        tried = f"not run: {why}" if why else f"in {whole['runtime']}"
        text += f"; all {len(whole['members'])} fp32 members in one graph {tried}"
    speeds = fusion.get("pairs_per_s")
    if speeds:
        text += "; pairs/s " + ", ".join(f"{k} {v:,.0f}" for k, v in speeds.items())
    return text


def _show_eval(result, threads: int) -> None:
    t = result.report["throughput"]
    click.echo(result.table)
    click.echo(
        f"\n{t['pairs']} pairs x {t['models']} models: {t['pairs_per_second']:,.0f} pairs/s "
        f"({threads} thread{'s' if threads > 1 else ''} a member, batch {t['batch_size']}; "
        "runtimes below)"
    )
    for m in result.report["members"]:
        if m.get("variant") and m["variant"].get("int8"):
            click.echo(f"  {ref_of(m)}: {m['variant']['summary']}")
    click.echo(f"  runtimes: {_runtimes_line(result.report['leaderboard'])}")
    click.echo(f"  members: {_fusion_line(result.report['fuse'])}")
    click.echo(f"report: {result.out_dir / 'report.md'} (report.json, plots, meta_learner.txt)")
    if result.card is not None:
        click.echo(f"registered {result.card.ref} (LightGBM stacker)")


@ensemble.command("export")
@click.argument("ref", metavar="[ENTRY]", required=False)
@registry_option
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data directory for the parity gate's val pairs (default: the ensemble's data)",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="ONNX file to write (default: export/NAME-VERSION.onnx)",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
@int8_option
@file_runtime_option
@fuse_option
@trees_option
def ensemble_export(ref, registry_dir, data_dir, as_json, **options) -> None:
    """Write ensemble ENTRY (default: the latest) as one ONNX file: members and meta-learner,
    only if it matches the Python path on every val pair."""
    from pairzoo.ensemble.settings import ExportSettings
    from pairzoo.registry import Registry

    settings = ExportSettings(
        ref=ref or None,
        out=options["out"],
        int8=options["int8"],
        runtime=options["runtime"],
        fuse=options["fuse"],
        trees=options["trees"],
    )
    _export_and_print(Registry(registry_dir), settings, data_dir, as_json)


def _export_and_print(
    registry: Registry, settings: ExportSettings, data_dir: str | None, as_json: bool
) -> None:
    """Write the ensemble `settings.ref` (latest when None) as one ONNX file behind the parity
    gate, on the val pairs of `data_dir` (default: the ensemble's data); each member with an int8
    variant as the one `settings.int8` picks on this CPU, the file's session options the ones
    `settings.runtime` picks."""
    from dataclasses import replace

    from pairzoo.data.format import load_data_dir
    from pairzoo.ensemble.export import export_ensemble
    from pairzoo.ensemble.members import load_ensemble_card

    card = load_ensemble_card(registry, settings.ref)
    data_dir = data_dir or card.section("data").get("path")
    if not data_dir:
        raise click.UsageError("give --data DIR: the parity gate runs on its val pairs")
    val = load_data_dir(data_dir, "val")
    result = export_ensemble(registry, replace(settings, ref=card.ref), val.x, val.y)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": str(result.path),
                    "ensemble": result.ref,
                    "bytes": result.bytes,
                    "parity": vars(result.parity) | {"passed": result.parity.ok},
                    "runtime": result.runtime,
                    "layout": result.layout,
                },
                indent=2,
            )
        )
        return
    click.echo(f"wrote {result.path} ({result.bytes:,} bytes): {result.ref} as one ONNX graph")
    click.echo(
        "  inputs xa, xb float32 (N, 1, 28, 28); outputs probability float32 (N,), label int64 (N,)"
    )
    gate = "decisions" if "decisions" in result.layout else "parity"
    click.echo(f"  {gate} against the Python path: {result.parity.describe()}")
    click.echo(f"  session options (measured fastest here): {_runtime_line(result.runtime)}")
    click.echo(f"  members: {_layout_line(result.layout)}")


def _layout_line(layout: dict) -> str:
    """Separate or fused, the groups of one shape, and the speeds behind an auto pick."""
    text = f"{layout['members']} (groups of one shape: {layout['groups']}, --fuse {layout['mode']})"
    speeds = layout.get("pairs_per_s")
    if speeds:
        text += " " + ", ".join(f"{k} {v:,.0f} pairs/s" for k, v in speeds.items())
    text += f"; trees: {layout.get('trees', 'ml')}"
    for key, why in layout.items():
        if key.endswith("_failed"):
            text += f"; {key.removesuffix('_failed').replace('_', ' with ')} failed the gate: {why}"
    return text


def _runtimes_line(rows: list[dict]) -> str:
    """How many members ran in each runtime, and why a candidate was skipped."""
    from collections import Counter

    chosen = [r["runtime"] for r in rows if r.get("runtime")]
    counts = Counter(c["chosen"] for c in chosen)
    text = ", ".join(f"{name} for {n} member{'s' if n > 1 else ''}" for name, n in counts.items())
    skipped = {k: v for c in chosen for k, v in (c.get("skipped") or {}).items()}
    return text + "".join(f"; {k} skipped: {v}" for k, v in sorted(skipped.items()))


def _runtime_line(choice: dict) -> str:
    speeds = choice.get("pairs_per_s")
    measured = "" if not speeds else " (" + ", ".join(f"{k} {v:,.0f}" for k, v in speeds.items())
    skipped = "".join(f"; {k} not used: {v}" for k, v in (choice.get("skipped") or {}).items())
    return (
        f"{choice['chosen']}, {choice['mode']}{measured + ' pairs/s)' if measured else ''}{skipped}"
    )


@ensemble.command("predict")
@click.argument("ref", metavar="[ENTRY]", required=False)
@predict_options
def ensemble_predict(ref, **options) -> None:
    """Predict a label for every pair of a data file with ensemble ENTRY (default: the latest)
    and write `id,label` (one row per id), checked and written atomically."""

    predict_with_options(options, ensemble=ref or "", model=None)
