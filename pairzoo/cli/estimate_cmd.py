"""`pairzoo estimate`: the accuracy to expect on unlabelled pairs, without their labels."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import ensemble_entry_option, int8_option, registry_option
from pairzoo.estimate import DEFAULT_PAIRS


@click.command("estimate")
@ensemble_entry_option("Ensemble entry NAME[@VERSION] (alone: the latest ensemble)")
@click.option("--model", help="One registry model, NAME[@VERSION]")
@click.option(
    "--data",
    "data_file",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Pair file (.npz, keys x and id); repeat it, or list several after it",
)
@click.argument("more", nargs=-1, metavar="[FILE]...", type=click.Path(dir_okay=False))
@registry_option
@click.option(
    "--labelled",
    "labelled_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data dir whose train digits calibration leaves out, when the entry's card "
    "has no calibration  [default: the one the card records]",
)
@click.option(
    "--pairs",
    type=click.IntRange(20),
    default=DEFAULT_PAIRS,
    show_default=True,
    help="Generated pairs per calibration set, when the card has no calibration",
)
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="onnxruntime intra-op threads per model",
)
@int8_option
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as JSON")
def estimate(registry_dir, as_json, **options) -> None:
    """Estimate the accuracy of an ensemble (and each member) or of one model on unlabelled pairs.

    A file's labels, if it has any, are never read. The estimator is calibrated on labelled
    pairs the generator makes at several severities and with the shifted corruption: the
    method whose error is smallest on the shift held out is kept, and the interval is its
    largest held-out error plus the file's own sampling error. An ensemble's card carries its
    calibration; otherwise it is made now, from the same seeded settings.
    """
    o = options
    if (o["ensemble"] is None) == (o["model"] is None):
        raise click.UsageError("give exactly one of --ensemble [ENTRY] or --model NAME[@VERSION]")
    from pairzoo.estimate.report import EstimateSettings, estimate_files
    from pairzoo.registry import Registry

    settings = EstimateSettings(
        files=[*o["data_file"], *o["more"]],
        ensemble=o["ensemble"] or None,
        model=o["model"],
        labelled_dir=o["labelled_dir"],
        pairs=o["pairs"],
        threads=o["threads"],
        int8=o["int8"],
    )
    result = estimate_files(Registry(registry_dir), settings)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from pairzoo.estimate.report import format_estimates

    click.echo(format_estimates(result))
