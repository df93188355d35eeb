"""The `pairzoo` command: a root group whose subcommands load lazily, so `--help` stays fast."""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os

import click

from pairzoo import __version__
from pairzoo.cli.options import use_plugins_dir

# name -> (module, attribute, one-line help). Modules are imported only when their command runs,
# and must not import torch at module level.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "data": (
        "pairzoo.cli.data_cmd",
        "data",
        "Make, check, show, compare and fit pair data sets, and report their stats.",
    ),
    "plugins": ("pairzoo.cli.plugins_cmd", "plugins", "List plugins and what each registered."),
    "train": ("pairzoo.cli.train_cmd", "train", "Train one pair model into a run directory."),
    "eval": ("pairzoo.cli.eval_cmd", "eval_", "Evaluate a run, or an ensemble of registry models."),
    "ensemble": (
        "pairzoo.cli.ensemble_cmd",
        "ensemble",
        "Evaluate, export and predict with registry ensembles.",
    ),
    "export": ("pairzoo.cli.export_cmd", "export", "Export runs (or an ensemble) to ONNX."),
    "registry": (
        "pairzoo.cli.registry_cmd",
        "registry",
        "List, show, verify, load and remove registry entries.",
    ),
    "estimate": (
        "pairzoo.cli.estimate_cmd",
        "estimate",
        "Estimate the accuracy to expect on unlabelled pairs.",
    ),
    "predict": (
        "pairzoo.cli.predict_cmd",
        "predict",
        "Write id,label predictions for a data file.",
    ),
    "tune": (
        "pairzoo.cli.tune_cmd",
        "tune",
        "Search hyper-parameters of one architecture with Optuna.",
    ),
    "distill": (
        "pairzoo.cli.distill_cmd",
        "distill",
        "Train one model on an exported ensemble's soft targets.",
    ),
    "adapt": (
        "pairzoo.cli.adapt_cmd",
        "adapt",
        "Adapt a registry ensemble to unlabelled pairs.",
    ),
    "train-all": (
        "pairzoo.cli.train_all_cmd",
        "train_all",
        "Train, export and ensemble the whole zoo.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _module_exists(COMMANDS[name][0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        if not _module_exists(module_name):
            return None
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module_name: str) -> bool:
    return importlib.util.find_spec(module_name) is not None


class _RootGroup(LazyGroup):
    """The root, and the one place errors become messages: a PairzooError from any command, or a
    file system error no command turned into a message (a full disk, a read-only file system, a
    denied permission), ends in one line (control characters escaped) and exit code 1, not a
    traceback."""

    def invoke(self, ctx: click.Context):
        from pairzoo.errors import PairzooError
        from pairzoo.plugin_errors import blame

        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            _maybe_traceback(ctx, exc.__cause__ or exc.__context__)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except PairzooError as exc:
            _maybe_traceback(ctx, exc)
            raise click.ClickException(_message(str(exc) or type(exc).__name__)) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click's own handling of a closed pipe (`pairzoo ... | head`)
            raise click.ClickException(_message(_os_message(exc))) from None
        except Exception as exc:  # a plugin's own bug gets one line naming it; others propagate
            failure = blame(exc)
            if failure is None:
                raise
            _maybe_traceback(ctx, exc)
            raise click.ClickException(str(failure)) from exc


def _os_message(exc: OSError) -> str:
    if exc.strerror and exc.filename is not None:
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        return f"{paths}: {exc.strerror} (errno {exc.errno})"
    return str(exc) or type(exc).__name__


def _message(message: str) -> str:
    """`message` escaped for the terminal; a data-parallel worker's names its rank."""
    from pairzoo.cli.terminal import printable

    rank = os.environ.get("RANK", "0") if "WORLD_SIZE" in os.environ else "0"
    return ("" if rank == "0" else f"rank {rank}: ") + printable(message, keep_newlines=True)


def _maybe_traceback(ctx: click.Context, exc: BaseException | None) -> None:
    from pairzoo.plugin_errors import debug_wanted

    if ctx.meta.get(_DEBUG) or debug_wanted():
        _print_traceback(exc)


_DEBUG = "pairzoo.debug"


def _print_traceback(exc: BaseException | None) -> None:
    import traceback

    if exc is not None:
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)


@click.group(cls=_RootGroup)
@click.version_option(__version__, prog_name="pairzoo")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the traceback behind an error (also PAIRZOO_DEBUG=1)",
)
@click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False),
    expose_value=False,
    callback=use_plugins_dir,
    help="Also load loose plugin files (*.py) from this directory, for every command and the "
    "worker processes it starts (also PAIRZOO_PLUGINS_DIR)",
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """pairzoo: train, export, register and ensemble pair-comparison image models."""
    ctx.meta[_DEBUG] = debug
