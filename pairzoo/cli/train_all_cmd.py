"""`pairzoo train-all`: the whole zoo (train, export, ensemble) from a zoo file and a profile."""

from __future__ import annotations

import click

from pairzoo.adapt.settings import AdaptJob, AdaptSettings
from pairzoo.cli.adapt_cmd import DEFAULT_GENERATED
from pairzoo.cli.options import plugins_dir_option, registry_option


@click.command("train-all")
@click.option(
    "--zoo",
    "zoo_file",
    type=click.Path(dir_okay=False),
    help="Zoo file (TOML)  [default: the original's eleven models, shipped with pairzoo]",
)
@click.option(
    "--profile",
    default="auto",
    show_default=True,
    help="Profile of the zoo file: full, cpu, smoke, or auto (full with CUDA, else cpu)",
)
@click.option("--data", "data_dir", default="data", show_default=True, help="Data directory")
@click.option("--runs", "runs_dir", default="runs", show_default=True, help="Runs directory")
@registry_option
@click.option("--force", is_flag=True, help="Train every selected model again, even if finished")
@click.option("--only", help="Comma-separated model names to run (default: all)")
@plugins_dir_option
@click.option(
    "--unlabelled",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Unlabelled pair file to adapt the ensemble to, as the last stage (repeatable)",
)
@click.option(
    "--adapt-threshold",
    type=float,
    default=0.9,
    show_default=True,
    help="With --unlabelled: ensemble confidence a pair needs to be pseudo-labelled",
)
@click.option(
    "--adapt-generated",
    type=click.IntRange(0),
    default=DEFAULT_GENERATED,
    show_default=True,
    help="With --unlabelled: labelled pairs made at the severity matched to them (adapt --generated)",
)
@click.option(
    "--train-minutes",
    type=click.FloatRange(min=0),
    help="Minutes the training may take on this machine: pairs per epoch are scaled down to "
    "fit a measured speed; 0: no budget  [default: the zoo file's, 0 in the builtin zoo]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--no-progress", is_flag=True, help="No progress bars or per-epoch lines")
def train_all(as_json, unlabelled, adapt_threshold, adapt_generated, **options):
    """Train every model of the zoo, export them to the registry and evaluate the ensemble.

    Finished runs with the same settings are kept and interrupted ones resumed, so running it
    again continues where it stopped. A model that fails is reported and the others go on; the
    exit code is then 1. Writes runs/summary.json, runs/summary.md and learning curves.
    With --unlabelled, the zoo's ensemble is then adapted to those pairs (`pairzoo adapt`).
    """
    import json
    from pathlib import Path

    summary = _run(options)
    from pairzoo.zoo.summary import format_summary

    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    if not as_json:
        click.echo(f"summary: {Path(options['runs_dir']) / 'summary.md'}")
    if not summary["ok"]:
        raise SystemExit(1)
    if unlabelled:
        settings = AdaptSettings(threshold=adapt_threshold, generated=adapt_generated)
        _adapt_stage(summary, unlabelled, settings, options)


def _adapt_stage(summary, unlabelled, settings: AdaptSettings, options) -> None:
    """`pairzoo adapt` on the zoo's own ensemble entry, into RUNS/adapt."""
    from pathlib import Path

    from pairzoo.cli.adapt_cmd import format_result, run_adapt

    entry = (summary.get("ensemble") or {}).get("entry")
    if not entry:
        raise click.ClickException("--unlabelled: the zoo has no registered ensemble to adapt")
    job = AdaptJob(
        unlabelled=tuple(unlabelled),
        data_dir=options["data_dir"],
        out_root=str(Path(options["runs_dir"]) / "adapt"),
        ensemble=entry,
        settings=settings,
    )
    result = run_adapt(options["registry_dir"], job)
    click.echo(format_result(result))
    if result.refused:
        raise SystemExit(1)


def _run(options: dict):
    """The zoo the command's options select, trained, exported and ensembled; its summary."""
    from dataclasses import replace
    from pathlib import Path

    from pairzoo.errors import DataError
    from pairzoo.plugins import load_plugins
    from pairzoo.registry import default_registry_dir
    from pairzoo.zoo.curves import write_curves
    from pairzoo.zoo.runner import ZooRunSettings, run_zoo
    from pairzoo.zoo.spec import load_zoo
    from pairzoo.zoo.summary import build_summary, write_summary

    data_dir, runs_dir = options["data_dir"], options["runs_dir"]
    load_plugins()
    names = [n.strip() for n in (options["only"] or "").split(",") if n.strip()]
    spec = load_zoo(options["zoo_file"], options["profile"]).select(names)
    if options["train_minutes"] is not None:
        spec = replace(spec, settings={**spec.settings, "train_minutes": options["train_minutes"]})
    if not (Path(data_dir) / "train.npz").is_file():
        raise DataError(
            f"data directory '{data_dir}' has no train.npz; make it with "
            f"`pairzoo data make --out {data_dir}` (or `make data`)"
        )
    settings = ZooRunSettings(
        data_dir,
        runs_dir,
        options["registry_dir"] or default_registry_dir(),
        force=options["force"],
        progress=not options["no_progress"],
    )
    result = run_zoo(spec, settings)
    curves = write_curves(result.models, runs_dir, spec.settings["min_val_accuracy"])
    summary = build_summary(result, curves)
    write_summary(runs_dir, summary)
    return summary
