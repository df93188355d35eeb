"""Options that several commands share, declared once so their names and help stay the same."""

import click

from pairzoo.runtime.runtimes import FILE_RUNTIMES, MEMBER_RUNTIMES

registry_option = click.option(
    "--registry",
    "registry_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Registry directory (default: $PAIRZOO_REGISTRY, else ./registry)",
)


def use_plugins_dir(ctx: click.Context, _param, value: str | None) -> None:
    """`pairzoo --plugins-dir DIR` (or a command's own --plugins-dir, its alias): every plugin
    load of this command, and of the worker processes it starts, reads DIR."""
    if value:
        from pairzoo.plugins import use_plugins_dir as use

        ctx.call_on_close(use(value))


plugins_dir_option = click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False),
    expose_value=False,
    callback=use_plugins_dir,
    help="Directory of extra plugin .py files (the same as pairzoo --plugins-dir)",
)


def mode_option(name: str, envvar: str, help_text: str):
    """--NAME auto|always|never: auto picks what measures faster on this CPU."""
    return click.option(
        f"--{name}",
        name,
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        envvar=envvar,
        help=f"{help_text} (${envvar})",
    )


int8_option = mode_option(
    "int8",
    "PAIRZOO_INT8",
    "Members with an int8 variant: the faster one on this CPU (measured once, cached), "
    "always int8, or never",
)


def runtime_option(names: tuple[str, ...], envvar: str, what: str):
    """--runtime: auto (the fastest of `names` on this CPU, measured once, cached) or one of them."""
    return click.option(
        "--runtime",
        type=click.Choice(["auto", *names]),
        default="auto",
        show_default=True,
        envvar=envvar,
        help=f"{what}: the fastest runtime on this CPU that gives onnxruntime's outputs "
        f"(measured once, cached; one not installed is skipped), or that one (${envvar})",
    )


member_runtime_option = runtime_option(MEMBER_RUNTIMES, "PAIRZOO_RUNTIME", "Members' backend")
file_runtime_option = runtime_option(
    FILE_RUNTIMES, "PAIRZOO_FILE_RUNTIME", "The one file's runtime and session options"
)


fuse_option = mode_option(
    "fuse",
    "PAIRZOO_FUSE",
    "Members of one shape as grouped convolutions in the one file: where it measures faster "
    "here, always, or never",
)
trees_option = click.option(
    "--trees",
    type=click.Choice(["auto", "plain", "ml"]),
    default="auto",
    show_default=True,
    envvar="PAIRZOO_TREES",
    help="The one file's LightGBM trees: plain operators that any runtime reads (OpenVINO too), "
    "onnxmltools' ai.onnx.ml trees, or auto: plain where OpenVINO is installed, ml should "
    "plain fail the gate ($PAIRZOO_TREES)",
)
eval_fuse_option = mode_option(
    "fuse",
    "PAIRZOO_FUSE",
    "fp32 members of one shape run as one session of grouped convolutions: where it measures "
    "faster here (with --runtime auto, all fp32 members in one graph is tried too), always, or "
    "never",
)


# `--ensemble` alone means the latest ensemble, `--ensemble ENTRY` that one; absent, None. The
# optional value needs flag_value; `pairzoo ensemble export|predict [ENTRY]` take an argument.
def ensemble_entry_option(help_text: str):
    return click.option(
        "--ensemble", is_flag=False, flag_value="", default=None, metavar="[ENTRY]", help=help_text
    )


no_progress_option = click.option(
    "--no-progress", is_flag=True, help="No progress bar or per-epoch lines"
)
