"""`pairzoo adapt`: adapt a registry ensemble to unlabelled pairs and register the result."""

from __future__ import annotations

import json
from typing import Any

import click

from pairzoo.adapt.settings import AdaptJob, AdaptSettings, FinetuneSettings
from pairzoo.cli.options import registry_option

DEFAULT_GENERATED = 8000


@click.command("adapt")
@click.option(
    "--unlabelled",
    "unlabelled",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Pair file (.npz, keys x and id) to adapt to; repeat it, or list several after it",
)
@click.argument("more", nargs=-1, metavar="[FILE]...", type=click.Path(dir_okay=False))
@click.option("--ensemble", help="Registry ensemble NAME[@VERSION]  [default: the latest]")
@registry_option
@click.option(
    "--data", "data_dir", default="data", show_default=True, help="Labelled data (train, val)"
)
@click.option("--out", "out_dir", default="runs/adapt", show_default=True, help="Work directory")
@click.option(
    "--rounds",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Rounds of pseudo-labelling and fine-tuning; each ensemble teaches the next",
)
@click.option(
    "--threshold",
    type=float,
    default=0.9,
    show_default=True,
    help="Ensemble confidence a pair needs to be pseudo-labelled",
)
@click.option(
    "--epochs",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="Passes over the pseudo-labelled pairs per round",
)
@click.option(
    "--lr",
    type=click.FloatRange(0, min_open=True),
    default=1e-3,
    show_default=True,
    help="Fine-tuning learning rate, decaying linearly to 0",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=128,
    show_default=True,
    help="Labelled and pseudo-labelled pairs per step, each",
)
@click.option(
    "--swap-weight",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Weight of the swap-consistency loss (members that are not antisymmetric)",
)
@click.option(
    "--bn",
    type=click.Choice(["source", "mixed", "target"]),
    default="source",
    show_default=True,
    help="Batch-norm statistics after fine-tuning: the labelled data's, re-estimated on labelled "
    "and target pairs alike, or on the target pairs alone",
)
@click.option(
    "--generated",
    type=click.IntRange(0),
    default=DEFAULT_GENERATED,
    show_default=True,
    help="Labelled pairs made at the generator severity that passes best for the target "
    "pairs, learned beside the pseudo-labelled ones; 0: none",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Fine-tuning seed")
@click.option(
    "--score",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Labelled pair file scored before and after, repeatable; never used for any choice",
)
@click.option(
    "--threads",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="CPU threads, 0 = all cores",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
def adapt(registry_dir, as_json, **options):
    """Adapt the members of a registry ensemble to unlabelled pairs, then register them.

    The ensemble labels the pairs it is confident about (class shares kept); every member is
    fine-tuned on its labelled train data plus those pairs, and the meta-learner is refit on the
    labelled val data. An adaptation whose out-of-fold val accuracy falls by more than a point is
    refused and registers nothing. The adapted members and ensemble are registered with their
    lineage (files and sha256, round, threshold, parent); the ensemble becomes the latest, which
    `predict --ensemble` and `eval --ensemble` use. Running it again keeps what is done.
    """

    result = run_adapt(registry_dir, _adapt_job(options))
    if as_json:
        click.echo(json.dumps(result.report, indent=2))
    else:
        click.echo(format_result(result))
    if result.refused:
        raise SystemExit(1)


def _adapt_job(options: dict[str, Any]) -> AdaptJob:
    """The command's options (click's names) as the one job `pairzoo.adapt.run.adapt` takes."""
    o = options
    finetune = FinetuneSettings(
        epochs=o["epochs"],
        batch_size=o["batch_size"],
        lr=o["lr"],
        swap_weight=o["swap_weight"],
        bn=o["bn"],
        seed=o["seed"],
    )
    return AdaptJob(
        unlabelled=(*o["unlabelled"], *o["more"]),
        data_dir=o["data_dir"],
        out_root=o["out_dir"],
        ensemble=o["ensemble"],
        settings=AdaptSettings(o["rounds"], o["threshold"], finetune, o["generated"]),
        score=tuple(o["score"]),
        threads=o["threads"],
    )


def run_adapt(registry_dir: str | None, job: AdaptJob):
    """`pairzoo.adapt.run.adapt` on the registry in `registry_dir`, logging to stderr."""
    from pairzoo.adapt.run import adapt as run
    from pairzoo.registry import Registry

    return run(Registry(registry_dir), job, log=lambda m: click.echo(m, err=True))


def format_result(result) -> str:
    from pairzoo.adapt.report import format_report

    lines = [format_report(result.report)]
    if result.refused:
        lines.append(f"refused: {result.refused}")
    elif result.card is not None:
        verb = "registered" if result.registered_now else "already registered:"
        lines.append(f"{verb} {result.card.ref} (now the latest ensemble)")
    lines.append(f"report: {result.work / 'report.json'}")
    return "\n".join(lines)
