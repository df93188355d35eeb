"""`pairzoo registry`: list, show, verify, load and remove registry entries."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import registry_option
from pairzoo.cli.terminal import printable as _printable


def _open(registry_dir):
    from pairzoo.registry import Registry

    return Registry(registry_dir)


@click.group("registry", invoke_without_command=True)
@click.pass_context
def registry(ctx: click.Context) -> None:
    """List, show, verify, load and remove registry entries (default: ls)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(ls)


@registry.command("ls")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list")
def ls(registry_dir=None, as_json=False) -> None:
    """List entries: name, version, architecture, val accuracy, parameters, MACs, size."""
    from pairzoo.registry.card import summary

    reg = _open(registry_dir)
    rows = [summary(card) for card in reg.list()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"registry {reg.root} has no entries")
        return
    table = [("NAME", "VERSION", "KIND", "ARCHITECTURE", "VAL ACC", "PARAMS", "MACS", "SIZE")]
    for r in rows:
        acc = r["val_accuracy"]
        table.append(
            (
                _printable(r["name"]),
                _printable(r["version"]),
                _printable(r["kind"] or ""),
                _printable(r["architecture"] or "-"),
                f"{acc:.4f}" if isinstance(acc, int | float) else "-",
                _si(r["parameters"]),
                _si(r["macs_per_pair"]),
                _si(r["onnx_bytes"], "B"),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _si(value, unit: str = "") -> str:
    if not isinstance(value, int | float):
        return "-"
    for prefix in ("", "k", "M", "G"):
        if abs(value) < 1000:
            return f"{value:.0f}{unit}" if not prefix else f"{value:.2f}{prefix}{unit}"
        value /= 1000
    return f"{value:.2f}T{unit}"


@registry.command("show")
@click.argument("ref")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole card as JSON")
def show(ref: str, registry_dir=None, as_json=False) -> None:
    """Show the card of NAME[@VERSION] (latest version if none is given)."""
    reg = _open(registry_dir)
    card = reg.resolve(ref)
    if as_json:
        click.echo(
            json.dumps(card.to_dict(), indent=2, sort_keys=True)
        )  # JSON escapes control characters
        return
    for label, value in _card_lines(card, reg.entry_dir(card)):
        click.echo(f"{label + ':':<18} {_printable(value)}")


def _card_lines(card, entry_dir) -> list[tuple[str, str]]:
    """`registry show`: one (label, text) per line; sections that are absent or not objects are
    left out, whatever JSON a card holds."""
    arch, loss, source = (
        _object(card, "architecture"),
        _object(card, "loss"),
        card.section("source"),
    )
    lines = [("entry", f"{card.ref} ({card.kind})"), ("dir", str(entry_dir))]
    if arch is not None:
        params = json.dumps(arch.get("params", {}), sort_keys=True)
        lines.append(("architecture", f"{arch.get('name')} {params}"))
        lines.append(("  plugin", f"{arch.get('plugin')} {arch.get('plugin_version')}"))
    if loss is not None:
        plugin = f"{loss.get('plugin')} {loss.get('plugin_version')}"
        lines.append(("loss", f"{loss.get('name')} (plugin {plugin})"))
    for key in ("parameters", "macs_per_pair"):
        if key in card:
            value = card[key]
            lines.append(
                (key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
            )
    if card.onnx:
        info, opset = card.onnx_file, card.section("onnx_info").get("opset")
        sha = info.get("sha256")
        lines.append(
            ("onnx", f"{card.onnx}  opset {opset}  {info.get('bytes')} bytes  sha256 {sha}")
        )
    lines += _parity_lines(_object(card, "parity")) + _metric_lines(card.section("metrics"))
    if card.section("data").get("fingerprint"):
        lines.append(("data fingerprint", str(card.section("data")["fingerprint"])))
    if source:
        config = str(source.get("config_hash"))[:12]
        lines.append(("source run", f"{source.get('run_dir')} (config {config})"))
    if _object(card, "adaptation") is not None:
        from pairzoo.adapt.lineage import describe

        lines += describe(card["adaptation"])
    lines.append(("created", f"{card.created} by pairzoo {card.pairzoo_version}"))
    return lines


def _object(card, key: str) -> dict | None:
    """The card's `key` if it is a JSON object (an empty one too), else None."""
    return card[key] if isinstance(card.get(key), dict) else None


def _parity_lines(parity: dict | None) -> list[tuple[str, str]]:
    if parity is None:
        return []
    batches = parity.get("batches", [])
    figures = ", ".join(f"batch {b['batch_size']}: {b['max_abs_diff']:.2e}" for b in batches)
    lines = [("parity", f"{'passed' if parity.get('passed') else 'FAILED'} (max |diff| {figures})")]
    swap = parity.get("swap") or {}
    if swap:
        flips = f"decisions flipped {swap.get('flip_rate'):.3f}"
        lines.append(("  swap", f"max |diff| {swap.get('max_abs_diff'):.2e}, {flips}"))
    return lines


def _metric_lines(metrics: dict) -> list[tuple[str, str]]:
    """One line per split, val first."""
    return [
        (
            split,
            ", ".join(f"{k} {v:.4f}" for k, v in sorted(m.items()) if isinstance(v, int | float)),
        )
        for split, m in sorted(metrics.items(), key=lambda kv: kv[0] != "val")
        if isinstance(m, dict)
    ]


@registry.command("verify")
@registry_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON")
def verify(registry_dir=None, as_json=False) -> None:
    """Recompute every hash; list missing, tampered and orphaned files (exit 1 if any)."""
    report = _open(registry_dir).verify()
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for problem in report.problems:
            click.echo(
                f"{problem.kind:<14} {_printable(problem.path)}: {_printable(problem.detail)}"
            )
        state = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(
            f"checked {report.entries_checked} entries, {report.files_checked} files in "
            f"{report.root}: {state}"
        )
    if not report.ok:
        raise SystemExit(1)


@registry.command("load")
@click.argument("ref")
@registry_option
@click.option(
    "--require-provider",
    type=click.Choice(["cpu", "cuda"]),
    default=None,
    help="Fail unless this execution provider is really used",
)
def load(ref: str, registry_dir=None, require_provider=None) -> None:
    """Check NAME[@VERSION] against its hashes, open it in onnxruntime and report the provider."""
    import onnxruntime

    opened = _open(registry_dir).open_session(ref, require_provider=require_provider)
    click.echo(
        f"{opened.card.ref}: hashes OK, onnxruntime {onnxruntime.__version__}, "
        f"provider {opened.provider}"
    )
    if opened.note:
        click.echo(f"warning: {opened.note}", err=True)


@registry.command("rm")
@click.argument("ref")
@registry_option
@click.option("--yes", is_flag=True, help="Remove without asking")
def rm(ref: str, registry_dir=None, yes=False) -> None:
    """Remove NAME@VERSION (its version number is never reused)."""
    reg = _open(registry_dir)
    if not yes:
        click.confirm(f"remove {ref} from {reg.root}?", abort=True)
    reg.remove(ref)
    click.echo(f"removed {ref}")
