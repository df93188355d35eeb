"""The `--ensemble` branch of `pairzoo eval`: evaluate registry models and their ensembles."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import int8_option, registry_option


def ensemble_options(f):
    """The options `pairzoo eval` takes for `--ensemble`, added below its own."""
    options = [
        click.option(
            "--ensemble",
            "ensemble",
            is_flag=True,
            help="Evaluate and stack registry models through onnxruntime",
        ),
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
        click.option(
            "--threads",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help="onnxruntime intra-op threads per model",
        ),
        int8_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def run_ensemble_eval(
    registry_dir,
    models,
    all_models,
    data,
    out_dir,
    folds,
    seed,
    trees,
    entry_name,
    no_register,
    threads,
    batch_size,
    as_json,
    int8="auto",
) -> None:
    from pairzoo.ensemble.pipeline import run_ensemble_eval as run
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

    if models and all_models:
        raise click.UsageError("give --models or --all, not both")
    refs = [m for m in models.split(",") if m.strip()] if models else None
    if _is_default("batch_size"):  # `eval`'s default suits PyTorch; onnxruntime has its own
        from pairzoo.ensemble.inference import DEFAULT_BATCH

        batch_size = DEFAULT_BATCH
    result = run(
        Registry(registry_dir),
        data,
        out_dir,
        models=refs,
        params=StackingParams(folds=folds, seed=seed, n_estimators=trees),
        name=entry_name,
        batch_size=batch_size,
        threads=threads,
        register=not no_register,
        int8=int8,
    )
    if as_json:
        click.echo(json.dumps(result.report, indent=2, sort_keys=True))
        return
    t = result.report["throughput"]
    click.echo(result.table)
    click.echo(
        f"\n{t['pairs']} pairs x {t['models']} models: {t['pairs_per_second']:,.0f} pairs/s through "
        f"onnxruntime ({threads} thread{'s' if threads > 1 else ''}, batch {t['batch_size']})"
    )
    for m in result.report["members"]:
        if m.get("variant") and m["variant"].get("int8"):
            click.echo(f"  {m['name']}@{m['version']}: {m['variant']['summary']}")
    click.echo(f"report: {result.out_dir / 'report.md'} (report.json, plots, meta_learner.txt)")
    if result.card is not None:
        click.echo(f"registered {result.card.ref} (LightGBM stacker)")


def _is_default(param: str) -> bool:
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(param) is ParameterSource.DEFAULT
