"""`pairzoo export`: a run (or every new run of a directory) to ONNX and into the registry."""

from __future__ import annotations

import json

import click

from pairzoo.errors import PairzooError


@click.command("export")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option(
    "--all",
    "all_runs",
    is_flag=True,
    help="PATH is a directory of runs: export every finished run not yet in the registry",
)
@click.option(
    "--registry",
    "registry_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Registry directory (default: $PAIRZOO_REGISTRY, else ./registry)",
)
@click.option("--name", default=None, help="Registry name (default: the run's name)")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data directory for the parity gate's validation pairs (default: the run's data)",
)
@click.option(
    "--plugins-dir", type=click.Path(file_okay=False), help="Directory of extra plugin .py files"
)
@click.option("--json", "as_json", is_flag=True, help="Print the card (or the results) as JSON")
def export(path, all_runs, registry_dir, name, data_dir, plugins_dir, as_json) -> None:
    """Export run directory PATH to ONNX, check parity with PyTorch and register it.

    The ONNX file takes xa, xb float32 (N, 1, 28, 28) and returns logit (N,). It is registered
    only if onnxruntime matches PyTorch within 1e-4 on validation pairs at batch sizes 1, 7 and
    1000 and on swapped pairs. Exporting again registers the next version.
    """
    if path is None:
        raise click.UsageError("give a run directory, or --all with a directory of runs")
    if all_runs and name:
        raise click.UsageError("--name names one run; it cannot be used with --all")
    try:
        from pairzoo.plugins import load_plugins
        from pairzoo.registry import Registry

        load_plugins(plugins_dir)
        registry = Registry(registry_dir)
        if all_runs:
            _export_all(path, registry, data_dir, as_json)
        else:
            _export_one(path, registry, name, data_dir, as_json)
    except PairzooError as exc:
        raise click.ClickException(str(exc)) from None


def _export_one(run_dir, registry, name, data_dir, as_json) -> None:
    from pairzoo.exporting import export_run
    from pairzoo.exporting.parity import describe

    card = export_run(run_dir, registry, name=name, data_dir=data_dir)
    if as_json:
        click.echo(json.dumps(card, indent=2, sort_keys=True))
        return
    info = card["files"][card["onnx"]]
    click.echo(f"registered {card['name']}@{card['version']} in {registry.root} from {run_dir}")
    click.echo(
        f"  onnx: opset {card['onnx_info']['opset']}, {info['bytes']:,} bytes, sha256 {info['sha256']}"
    )
    click.echo(f"  parity: {describe(card['parity'])}")
    click.echo(
        f"  time: {card['timings']['total_s']:.1f} s (export {card['timings']['export_s']:.1f} s, "
        f"parity {card['timings']['parity_s']:.1f} s)"
    )


def _export_all(runs_dir, registry, data_dir, as_json) -> None:
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
