"""`pairzoo plugins`: every plugin with its version, source and what it registered."""

from __future__ import annotations

import json

import click

FAMILY_TITLES = {
    "architectures": "architecture",
    "fusion_heads": "fusion head",
    "losses": "loss",
    "label_rules": "label rule",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text")
@click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False),
    envvar="PAIRZOO_PLUGINS_DIR",
    help="Also load loose plugin files (*.py) from this directory",
)
def plugins(as_json: bool, plugins_dir: str | None) -> None:
    """List plugins: version, source, and each registered item with its parameters."""
    from pairzoo.errors import PairzooError
    from pairzoo.plugins import load_plugins

    try:
        cat = load_plugins(plugins_dir)
    except PairzooError as exc:
        raise click.ClickException(str(exc)) from exc
    listing = [_describe(cat, info) for info in cat.plugins]
    if as_json:
        click.echo(json.dumps({"plugins": listing}, indent=2))
        return
    for entry in listing:
        _echo_plugin(entry)


def _describe(cat, info) -> dict:
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
        "registered": registered,
    }


def _echo_plugin(entry: dict) -> None:
    click.echo(f"{entry['name']} {entry['version']} ({entry['source']})")
    if entry["error"]:
        click.echo(f"  BROKEN: {entry['error']}")
        return
    for family, items in entry["registered"].items():
        for item in items:
            params = ", ".join(f"{k}={json.dumps(v)}" for k, v in item["params"].items())
            line = f"  {FAMILY_TITLES.get(family, family)} {item['name']}"
            click.echo(line + (f"({params})" if params else ""))
            if item["description"]:
                click.echo(f"      {item['description']}")
