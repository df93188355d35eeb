"""`pairzoo predict`: the `id,label` CSV for a data file, from an ensemble or one model."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import ensemble_entry_option, int8_option, registry_option


def predict_options(f):
    """The options `predict` and `ensemble predict` share: files, registry, batch, threads, int8."""
    options = [
        click.option("--data", "data_file", required=True, type=click.Path(dir_okay=False),
                     help="Pair file (.npz with keys x, id)"),
        click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
                     help="CSV to write (id,label)"),
        registry_option,
        click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True,
                     help="Pairs per onnxruntime call"),
        click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
                     help="onnxruntime intra-op threads per model"),
        int8_option,
        click.option("--estimate", is_flag=True,
                     help="Add the label-free accuracy estimate to the summary (pairzoo estimate)"),
        click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON"),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


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

        return click.get_current_context().invoke(ensemble_predict, entry=ensemble, **options)
    write_csv(ensemble=None, model=model, **options)


def write_csv(
    ensemble, model, data_file, out_file, registry_dir, batch_size, threads, int8, as_json,
    estimate=False,
) -> None:  # fmt: skip
    """The CSV of one model (`model`) or of an ensemble (`ensemble`, "" for the latest)."""
    from pairzoo.data.format import load_split
    from pairzoo.ensemble.predict import predict_proba, write_predictions
    from pairzoo.metrics import accuracy
    from pairzoo.registry import Registry

    split = load_split(data_file)
    proba, card = predict_proba(
        Registry(registry_dir),
        split.x,
        ensemble=ensemble or None,
        model=model,
        batch_size=batch_size,
        threads=threads,
        int8=int8,
    )
    labels = write_predictions(out_file, split.ids, proba, split.ids)
    summary = {
        "out": out_file,
        "pairs": int(len(labels)),
        "by": card.ref,
        "kind": card.kind,
        "label_1_share": round(float(labels.mean()), 4) if len(labels) else None,
        "accuracy": accuracy(split.y, proba) if split.y is not None else None,
    }
    if estimate:
        summary["estimate"] = _estimate(registry_dir, data_file, ensemble, model, threads, int8)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    line = (
        f"wrote {summary['pairs']} predictions to {out_file} with {summary['kind']} {summary['by']}"
    )
    if summary["accuracy"] is not None:
        line += f" (accuracy on the file's labels: {100 * summary['accuracy']:.2f}%)"
    if estimate:
        e = summary["estimate"]
        line += (f"; estimated accuracy {100 * e['accuracy']:.2f}% "
                 f"({100 * e['low']:.2f}-{100 * e['high']:.2f}%, {e['method']})")  # fmt: skip
    click.echo(line)


def _estimate(registry_dir, data_file, ensemble, model, threads, int8) -> dict:
    """The entry's own row of `pairzoo estimate` for the file (the ensemble's, or the model's)."""
    from pairzoo.estimate.report import estimate_files
    from pairzoo.registry import Registry

    result = estimate_files(Registry(registry_dir), [data_file], ensemble or None, model,
                            threads=threads, int8=int8)  # fmt: skip
    return result["files"][0]["estimates"][-1]
