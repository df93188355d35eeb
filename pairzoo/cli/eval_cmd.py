"""`pairzoo eval`: accuracy, F1, precision, recall and ROC-AUC of a run on val and test_public."""

from __future__ import annotations

import json

import click

from pairzoo.cli.ensemble_eval import ensemble_options, run_ensemble_eval
from pairzoo.cli.options import plugins_dir_option

METRICS = ("accuracy", "f1", "precision", "recall", "roc_auc")


@click.command(name="eval")
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
    "--batch-size", type=int, default=1024, show_default=True, help="Evaluation batch size"
)
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON")
@ensemble_options
def eval_(model_dir, data, device, batch_size, as_json, ensemble, **ensemble_opts):
    """Evaluate a run's best model on the labelled splits (val, test_public).

    With --ensemble: evaluate registry models through onnxruntime, stack them (LightGBM,
    cross-validated on val) beside the baselines, and write the leaderboard report.
    """
    if ensemble:
        if model_dir:
            raise click.UsageError("give --model RUN_DIR or --ensemble, not both")
        return run_ensemble_eval(data=data, batch_size=batch_size, as_json=as_json, **ensemble_opts)
    if not model_dir:
        raise click.UsageError("give --model RUN_DIR, or --ensemble for registry models")
    from pairzoo.errors import PairzooError
    from pairzoo.plugins import load_plugins
    from pairzoo.train.evaluate import evaluate_run

    try:
        load_plugins()
        result = evaluate_run(model_dir, data, device=device, batch_size=batch_size)
    except PairzooError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    click.echo(format_table(result))


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
