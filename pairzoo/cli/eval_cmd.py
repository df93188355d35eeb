"""`pairzoo eval`: accuracy, F1, precision, recall and ROC-AUC of a run on val and test_public."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import plugins_dir_option

METRICS = ("accuracy", "f1", "precision", "recall", "roc_auc")


TORCH_BATCH = 1024


# Unknown options are kept for --ensemble, which hands them to `pairzoo ensemble eval`.
@click.command(
    name="eval", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False),
    help="Run directory, e.g. runs/NAME",
)
@click.option(
    "--data",
    default="data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Data directory",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Compute device",
)
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help=f"Evaluation batch size  [default: {TORCH_BATCH}; with --ensemble, onnxruntime's]",
)
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON")
@click.option(
    "--ensemble",
    is_flag=True,
    help="Evaluate and stack registry models: `pairzoo ensemble eval`, whose options it takes",
)
@click.pass_context
def eval_(ctx, **options):
    """Evaluate a run's best model on the labelled splits (val, test_public).

    With --ensemble: evaluate registry models through onnxruntime, stack them (LightGBM,
    cross-validated on val) beside the baselines, and write the leaderboard report; the options
    of `pairzoo ensemble eval` (--models, --all, --registry, --out, ...) apply.
    """
    o = options
    if o["ensemble"]:
        if o["model_dir"]:
            raise click.UsageError("give --model RUN_DIR or --ensemble, not both")
        return _ensemble_eval(ctx, o["data"], o["batch_size"], o["as_json"])
    if ctx.args:
        _refuse_extra(ctx)
    if not o["model_dir"]:
        raise click.UsageError("give --model RUN_DIR, or --ensemble for registry models")
    batch_size = TORCH_BATCH if o["batch_size"] is None else o["batch_size"]
    from pairzoo.plugins import load_plugins
    from pairzoo.train.evaluate import evaluate_run

    load_plugins()
    result = evaluate_run(o["model_dir"], o["data"], device=o["device"], batch_size=batch_size)
    if o["as_json"]:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    click.echo(format_table(result))


def _ensemble_eval(ctx: click.Context, data, batch_size, as_json) -> None:
    """`pairzoo ensemble eval` with the options this command did not know, and its own shared
    ones (a batch size only when given: onnxruntime's default is not PyTorch's)."""
    from pairzoo.cli.ensemble_cmd import ensemble_eval

    args = [*ctx.args, "--data", data]
    args += [] if batch_size is None else ["--batch-size", str(batch_size)]
    args += ["--json"] if as_json else []
    with ensemble_eval.make_context("ensemble eval", args, parent=ctx.parent) as sub:
        ensemble_eval.invoke(sub)


def _refuse_extra(ctx: click.Context) -> None:
    first = ctx.args[0]
    if first.startswith("-"):
        raise click.NoSuchOption(first.split("=", 1)[0], ctx=ctx)
    raise click.UsageError(f"Got unexpected extra argument ({' '.join(ctx.args)})", ctx=ctx)


def format_table(result: dict) -> str:
    splits = [s for s in ("val", "test_public") if s in result]
    lines = [
        f"{result['run']} on {result['data']}",
        f"{'split':<12}{'n':>7}" + "".join(f"{m:>11}" for m in METRICS),
    ]
    for split in splits:
        row = result[split]
        if row is None:
            lines.append(f"{split:<12}{'-':>7}  (no labelled pairs)")
            continue
        cells = "".join(f"{'n/a':>11}" if row[m] is None else f"{row[m]:>11.4f}" for m in METRICS)
        lines.append(f"{split:<12}{row['n']:>7}{cells}")
    return "\n".join(lines)
