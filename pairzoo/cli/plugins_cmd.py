"""`pairzoo plugins`: every plugin with its version, source and what it registered; `check`."""

from __future__ import annotations

import json

import click

from pairzoo.cli.options import use_plugins_dir

FAMILY_TITLES = {
    "architectures": "architecture",
    "fusion_heads": "fusion head",
    "losses": "loss",
    "label_rules": "label rule",
}

_plugins_dir = click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False),
    expose_value=False,
    callback=use_plugins_dir,
    help="Also load loose plugin files (*.py) from this directory (as pairzoo --plugins-dir)",
)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text")
@_plugins_dir
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 if any plugin is broken or registered nothing (for a plugin's CI)",
)
@click.pass_context
def plugins(ctx, as_json: bool, strict: bool) -> None:
    """List plugins: version, source, and each registered item with its parameters.

    `pairzoo plugins check NAME` runs the builtins' tests on a plugin's items.
    """
    if ctx.invoked_subcommand is not None:
        return
    cat = _load()
    listing = [_plugin_row(cat, info) for info in cat.plugins]
    if as_json:
        click.echo(json.dumps({"plugins": listing}, indent=2))
    else:
        for row in listing:
            _echo_plugin(row)
    idle = [e["name"] for e in listing if e["error"] or e["warning"]]
    if strict and idle:
        raise click.ClickException(
            f"--strict: {len(idle)} plugin(s) broken or registering nothing: {', '.join(idle)}"
        )


@plugins.command("check")
@click.argument("name")
@_plugins_dir
@click.option(
    "--arch-param",
    multiple=True,
    metavar="KEY=VALUE",
    help="Architecture parameter for the checked models (default: the registered defaults)",
)
@click.pass_context
def check(ctx, name: str, arch_param: tuple[str, ...]) -> None:
    """Run the builtins' tests on plugin NAME's items (or on the one item NAME).

    Forward and the contract, forward_aux, backward, ONNX export with parity at batch sizes 1, 7
    and 64, swap behaviour, and learning easy data to 90% within 4 epochs. Exit 1 on a failure.
    """
    from pairzoo.plugin_check import FAIL, PASS, SKIP, items_of
    from pairzoo.plugin_check import check as run_checks
    from pairzoo.train.config import parse_assignments

    _load()
    params = parse_assignments(arch_param, "--arch-param")
    width = max(len(f"{FAMILY_TITLES[i.family]} {i.name}") for i in items_of(name))
    click.echo(f"{'item':<{width}}  {'test':<12} {'result':<6} detail")

    def show(result) -> None:
        line = f"{result.item:<{width}}  {result.test:<12} {result.status:<6} {result.detail}"
        click.echo(line.rstrip())

    results = run_checks(name, params, on_result=show)
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    click.echo(f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
    if counts[FAIL]:
        ctx.exit(1)


def _load():
    from pairzoo.plugins import load_plugins

    return load_plugins()


def _plugin_row(cat, info) -> dict:
    registered = {
        family: [
            cat.family(family)[name].describe() for name in names if name in cat.family(family)
        ]
        for family, names in info.registered.items()
    }
    return {
        "name": info.name,
        "version": info.version,
        "source": info.source,
        "error": info.error,
        "warning": info.warning,
        "registered": registered,
    }


def _echo_plugin(row: dict) -> None:
    click.echo(f"{row['name']} {row['version']} ({row['source']})")
    if row["error"]:
        click.echo(f"  BROKEN: {row['error']}")
        return
    if row["warning"]:
        click.echo(f"  WARNING: {row['warning']}")
    for family, items in row["registered"].items():
        for item in items:
            params = ", ".join(f"{k}={json.dumps(v)}" for k, v in item["params"].items())
            line = f"  {FAMILY_TITLES.get(family, family)} {item['name']}"
            click.echo(line + (f"({params})" if params else ""))
            if item["description"]:
                click.echo(f"      {item['description']}")
