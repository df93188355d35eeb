"""Options that several commands share, declared once so their names and help stay the same."""

import click

registry_option = click.option(
    "--registry",
    "registry_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Registry directory (default: $PAIRZOO_REGISTRY, else ./registry)",
)

plugins_dir_option = click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False),
    help="Directory of extra plugin .py files",
)

no_progress_option = click.option(
    "--no-progress", is_flag=True, help="No progress bar or per-epoch lines"
)
