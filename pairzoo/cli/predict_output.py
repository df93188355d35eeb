"""What `predict` and `ensemble predict` share: their options, their settings and the CSV they
write. Both commands import it; it imports neither, so they never import each other back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from pairzoo.cli.options import (
    eval_fuse_option,
    int8_option,
    member_runtime_option,
    registry_option,
)

if TYPE_CHECKING:
    from pairzoo.ensemble.predict import PredictSettings
    from pairzoo.registry import Registry


def predict_options(f):
    """The options `predict` and `ensemble predict` share: files, registry, batch, threads, int8,
    the members' runtime and fusion (as `ensemble eval` runs them)."""
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
        member_runtime_option,
        eval_fuse_option,
        click.option("--estimate", is_flag=True,
                     help="Add the label-free accuracy estimate to the summary (pairzoo estimate)"),
        click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON"),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


@dataclass(frozen=True)
class CsvSettings:
    data_file: str  # pairs to label (.npz, keys x and id)
    out_file: str  # the id,label CSV
    entry: PredictSettings  # who predicts (an ensemble, None for the latest, or one model)
    estimate: bool = False  # add the label-free accuracy estimate to the summary


def predict_with_options(options: dict[str, Any], ensemble: str | None, model: str | None):
    """`predict_options`' values (and who predicts: "" is the latest ensemble) as the CSV."""
    from pairzoo.ensemble.predict import PredictSettings
    from pairzoo.registry import Registry

    o = options
    entry = PredictSettings(
        ensemble or None, model, o["batch_size"], o["threads"], o["int8"], o["runtime"], o["fuse"]
    )
    settings = CsvSettings(o["data_file"], o["out_file"], entry, o["estimate"])
    write_csv(Registry(o["registry_dir"]), settings, o["as_json"])


def write_csv(registry: Registry, settings: CsvSettings, as_json: bool = False) -> None:
    """The CSV of `settings.entry` (one model, or an ensemble) and its summary on stdout."""
    from pairzoo.data.format import load_split
    from pairzoo.ensemble.predict import predict, write_predictions
    from pairzoo.metrics import accuracy

    s = settings
    split = load_split(s.data_file)
    run = predict(registry, split.x, s.entry)
    proba, card = run.proba, run.card
    labels = write_predictions(s.out_file, split.ids, proba, split.ids)
    summary = {
        "out": s.out_file,
        "pairs": int(len(labels)),
        "by": card.ref,
        "kind": card.kind,
        "label_1_share": round(float(labels.mean()), 4) if len(labels) else None,
        "accuracy": accuracy(split.y, proba) if split.y is not None else None,
        "runtimes": run.runtimes,
        "members": run.fuse.get("members", "separate"),
    }
    if s.estimate:
        summary["estimate"] = _estimate(registry, s)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    line = (
        f"wrote {summary['pairs']} predictions to {s.out_file} with {summary['kind']} "
        f"{summary['by']}"
    )
    if summary["accuracy"] is not None:
        line += f" (accuracy on the file's labels: {100 * summary['accuracy']:.2f}%)"
    ran = ", ".join(f"{k} x{v}" for k, v in run.runtimes.items())
    line += f"; members in {ran}, {summary['members']}"
    if s.estimate:
        e = summary["estimate"]
        line += (
            f"; estimated accuracy {100 * e['accuracy']:.2f}% "
            f"({100 * e['low']:.2f}-{100 * e['high']:.2f}%, {e['method']})"
        )
    click.echo(line)


def _estimate(registry: Registry, s: CsvSettings) -> dict:
    """The entry's own row of `pairzoo estimate` for the file (the ensemble's, or the model's)."""
    from pairzoo.estimate.report import EstimateSettings, estimate_files

    e = s.entry
    wanted = EstimateSettings([s.data_file], e.ensemble, e.model, threads=e.threads, int8=e.int8)
    result = estimate_files(registry, wanted)
    return result["files"][0]["estimates"][-1]
