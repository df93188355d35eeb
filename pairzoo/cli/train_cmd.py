"""`pairzoo train`: one pair model into a run directory (command-line values override --config).

Under torchrun (`torchrun --nproc_per_node N -m pairzoo train ...`) every process runs this
command and they train one model data-parallel; `--nproc N` launches torchrun itself.
"""

from __future__ import annotations

import os
import sys

import click

from pairzoo.cli.options import no_progress_option, plugins_dir_option
from pairzoo.cli.train_options import shown_default, train_options

_THREADS_HELP = "CPU threads per process, 0 = all cores (shared among data-parallel processes)"


@click.command()
@train_options("config")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Run directory to write, e.g. runs/NAME",
)
@train_options(
    "name", "data", "arch", "layers", "width_mult", "feat_dim", "heads", "arch_param", "loss",
    "loss_param", "rule", "epochs", "batch_size", "eval_batch_size", "lr", "weight_decay",
    "schedule", "patience", "label_smoothing", "grad_clip", "accum_steps", "aux_weight", "subset",
    "subset_mode", "pairs", "augment", "swap", "seed", "device", "threads", "init_from",
    help_for={"threads": _THREADS_HELP + shown_default("threads")},
)  # fmt: skip
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last epoch")
@plugins_dir_option
@no_progress_option
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    help="Processes on this machine training data-parallel, launched through torchrun; "
    "--batch-size is their global batch  [default: 1]",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "nccl", "gloo"]),
    envvar="PAIRZOO_DIST_BACKEND",
    help="Collectives of a data-parallel run (env PAIRZOO_DIST_BACKEND)  [default: auto: nccl on "
    "CUDA, gloo on the CPU]",
)
@click.pass_context
def train(ctx, nproc, **options):
    """Train one pair model into a run directory (model.pt, metrics.json, history, logs)."""
    if nproc > 1:
        ctx.exit(_launch(ctx, nproc))
    metrics = _train(options)
    if os.environ.get("RANK", "0") != "0":
        return  # one summary line per data-parallel run, from rank 0
    val = metrics["val"]
    line = (
        f"{options['out']}: best epoch {metrics['best_epoch']}, val accuracy {val['accuracy']:.4f}"
    )
    if metrics.get("test_public"):
        line += f", test_public accuracy {metrics['test_public']['accuracy']:.4f}"
    click.echo(line)


def _train(options: dict) -> dict:
    """The run the command's options ask for: --config, then the values given here over it."""
    from pairzoo.cli.train_options import base_config, config_overrides
    from pairzoo.plugins import load_plugins
    from pairzoo.train import train_run
    from pairzoo.train.config import merge

    o = dict(options)
    config_file, out, resume = o.pop("config_file"), o.pop("out"), o.pop("resume")
    progress, backend = not o.pop("no_progress"), o.pop("backend")
    load_plugins()
    base = base_config(config_file, out, resume)
    return train_run(
        merge(base, config_overrides(o)),
        out,
        resume=resume,
        progress=progress,
        backend=backend,
    )


def _launch(ctx: click.Context, nproc: int) -> int:
    """This command again under torchrun with `nproc` processes; its exit status."""
    import subprocess

    if "WORLD_SIZE" in os.environ:
        raise click.ClickException(
            "--nproc launches torchrun, but this process already runs under it (WORLD_SIZE is "
            "set); leave --nproc out"
        )
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc_per_node", str(nproc), "-m", "pairzoo", "train", *_given_args(ctx, skip=("nproc",)),
    ]  # fmt: skip
    try:
        return subprocess.run(cmd, check=False).returncode
    except KeyboardInterrupt:
        return 130


def _given_args(ctx: click.Context, skip: tuple[str, ...]) -> list[str]:
    """The command line of the options given to `ctx` (from the command line or environment)."""
    from click.core import ParameterSource

    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    args: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name in skip or ctx.get_parameter_source(param.name) not in given:
            continue
        if not isinstance(param, click.Option) or value is None:
            continue
        if param.is_flag and param.secondary_opts:
            args.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.is_flag:
            if value:
                args.append(param.opts[0])
        else:
            for item in value if param.multiple else (value,):
                args += [param.opts[0], str(item)]
    return args
