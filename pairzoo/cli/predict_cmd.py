"""`pairzoo predict`: the `id,label` CSV for a data file, from an ensemble or one model."""

from __future__ import annotations

import click

from pairzoo.cli.options import ensemble_entry_option
from pairzoo.cli.predict_output import predict_options, predict_with_options


@click.command("predict")
@ensemble_entry_option("Ensemble entry NAME[@VERSION] (alone: the latest ensemble)")
@click.option("--model", help="One registry model, NAME[@VERSION]")
@predict_options
def predict(ensemble, model, **options) -> None:
    """Predict a label for every pair of a data file and write `id,label` (one row per id).

    The CSV is checked before it is written (ids unique and equal to the file's, labels 0 or 1)
    and written atomically. `--ensemble` is `pairzoo ensemble predict`.
    """
    if (ensemble is None) == (model is None):
        raise click.UsageError("give exactly one of --ensemble [ENTRY] or --model NAME[@VERSION]")
    if ensemble is not None:
        from pairzoo.cli.ensemble_cmd import ensemble_predict

        return click.get_current_context().invoke(ensemble_predict, ref=ensemble, **options)
    predict_with_options(options, ensemble=None, model=model)
