"""`pairzoo export`: a run (or every new run of a directory) to ONNX and into the registry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from pairzoo.cli.options import (
    ensemble_entry_option,
    file_runtime_option,
    fuse_option,
    int8_option,
    plugins_dir_option,
    registry_option,
    trees_option,
)

if TYPE_CHECKING:
    from pairzoo.registry import Registry

# The options `pairzoo ensemble export` takes too, handed on with --ensemble.
ENSEMBLE_EXPORT_OPTIONS = (
    "registry_dir", "data_dir", "out", "as_json", "int8", "runtime", "fuse", "trees",
)  # fmt: skip


@click.command("export")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option(
    "--all",
    "all_runs",
    is_flag=True,
    help="PATH is a directory of runs: export every finished run not yet in the registry",
)
@registry_option
@click.option("--name", default=None, help="Registry name (default: the run's name)")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data directory for the parity gate's validation pairs (default: the run's data)",
)
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the card (or the results) as JSON")
@ensemble_entry_option(
    "Write ensemble ENTRY (alone: the latest) as one ONNX file instead of exporting a run"
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="File for --ensemble (default: export/NAME-VERSION.onnx)",
)
@click.option(
    "--quantize",
    type=click.Choice(["int8"]),
    help="Also register an int8 variant (static QDQ, calibrated on training pairs)",
)
@int8_option
@file_runtime_option
@fuse_option
@trees_option
def export(path, ensemble, **options) -> None:
    """Export run directory PATH to ONNX, check parity with PyTorch and register it.

    The ONNX file takes xa, xb float32 (N, 1, 28, 28) and returns logit (N,). It is registered
    only if onnxruntime matches PyTorch within 1e-4 on validation pairs at batch sizes 1, 7 and
    1000 and on swapped pairs. Exporting again registers the next version. With --quantize int8
    the int8 variant is registered as NAME-int8 if its val accuracy is at most 0.5 points lower.

    With --ensemble, writes a registry ensemble (members + LightGBM meta-learner) as one ONNX
    file, only if it matches the Python path on every val pair (`pairzoo ensemble export`).
    """
    if ensemble is not None:
        if path or options["all_runs"] or options["quantize"]:
            raise click.UsageError("--ensemble takes no run directory, --all or --quantize")
        from pairzoo.cli.ensemble_cmd import ensemble_export

        shared = {k: options[k] for k in ENSEMBLE_EXPORT_OPTIONS}
        return click.get_current_context().invoke(ensemble_export, ref=ensemble, **shared)
    _export_runs(path, options)


def _export_runs(path, options: dict) -> None:
    """PATH, one run or (--all) a directory of runs, into the registry."""
    all_runs, name, quantize = options["all_runs"], options["name"], options["quantize"]
    if quantize and all_runs:
        raise click.UsageError("--quantize works on one run; it cannot be used with --all")
    if path is None:
        raise click.UsageError("give a run directory, or --all with a directory of runs")
    if all_runs and name:
        raise click.UsageError("--name names one run; it cannot be used with --all")
    from pairzoo.plugins import load_plugins
    from pairzoo.registry import Registry

    load_plugins()
    registry = Registry(options["registry_dir"])
    data_dir, as_json = options["data_dir"], options["as_json"]
    if all_runs:
        _export_all(path, registry, data_dir, as_json)
    else:
        _export_one(path, registry, name, data_dir, as_json, quantize)


def _export_one(run_dir, registry: Registry, name, data_dir, as_json, quantize=None) -> None:
    from pairzoo.cli.export_extras import int8_line, quantize_exported
    from pairzoo.exporting import export_run
    from pairzoo.exporting.parity import parity_line

    card = export_run(run_dir, registry, name=name, data_dir=data_dir)
    int8 = quantize_exported(card, registry, data_dir) if quantize else None
    if as_json:
        doc = card.to_dict() if int8 is None else {"model": card.to_dict(), "int8": int8.to_dict()}
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    info, timings = card.onnx_file, card.section("timings")
    click.echo(f"registered {card.ref} in {registry.root} from {run_dir}")
    click.echo(
        f"  onnx: opset {card.section('onnx_info').get('opset')}, {info['bytes']:,} bytes, sha256 {info['sha256']}"
    )
    click.echo(f"  parity: {parity_line(card.section('parity'))}")
    click.echo(
        f"  time: {timings['total_s']:.1f} s (export {timings['export_s']:.1f} s, "
        f"parity {timings['parity_s']:.1f} s)"
    )
    if int8 is not None:
        click.echo(int8_line(int8))


def _export_all(runs_dir, registry: Registry, data_dir, as_json) -> None:
    from pairzoo.exporting import export_all

    def show(result: dict) -> None:
        if not as_json:
            detail = result.get("ref") or result.get("reason")
            click.echo(f"{result['status']:<9} {result['run']}: {detail}")

    results = export_all(runs_dir, registry, data_dir=data_dir, on_result=show)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    counts = {s: sum(r["status"] == s for r in results) for s in ("exported", "skipped", "failed")}
    if not as_json:
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    if counts["failed"]:
        raise SystemExit(1)
