"""`pairzoo train`: one pair model into a run directory (command-line values override --config).

Under torchrun (`torchrun --nproc_per_node N -m pairzoo train ...`) every process runs this
command and they train one model data-parallel; `--nproc N` launches torchrun itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pairzoo.cli.options import plugins_dir_option
from pairzoo.train.config import TOP_DEFAULTS, TRAIN_DEFAULTS  # stdlib only: no torch here

# Option name -> config key, per config section; an option left at None was not given.
_TOP = {
    "arch": "arch",
    "loss": "loss",
    "seed": "seed",
    "data": "data",
    "name": "name",
    "rule": "rule",
}
_ARCH = {"layers": "layers", "width_mult": "width_mult", "feat_dim": "feat_dim", "heads": "heads"}
_TRAIN = (
    "epochs",
    "batch_size",
    "eval_batch_size",
    "lr",
    "weight_decay",
    "patience",
    "schedule",
    "label_smoothing",
    "grad_clip",
    "accum_steps",
    "aux_weight",
    "subset",
    "subset_mode",
    "device",
    "threads",
)


def _default(key: str) -> str:
    return f"  [default: {TRAIN_DEFAULTS.get(key, TOP_DEFAULTS.get(key))}]"


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML config file; options given here override it",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Run directory to write, e.g. runs/NAME",
)
@click.option("--name", help="Run name (default: the --out folder's name)")
@click.option("--data", help="Data directory" + _default("data"))
@click.option("--arch", help="Architecture name" + _default("arch"))
@click.option("--layers", help="Blocks per stage, e.g. 3,3,3")
@click.option("--width-mult", type=float, help="Channel width multiplier")
@click.option("--feat-dim", type=int, help="Embedding size")
@click.option("--heads", help="Fusion heads, e.g. diff,concat,product")
@click.option(
    "--arch-param",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any architecture parameter (JSON-ish value)",
)
@click.option("--loss", help="Loss name" + _default("loss"))
@click.option(
    "--loss-param", multiple=True, metavar="KEY=VALUE", help="Any loss parameter (JSON-ish value)"
)
@click.option("--rule", help="Label rule (default: the data's meta.json)")
@click.option("--epochs", type=int, help="Maximum epochs" + _default("epochs"))
@click.option("--batch-size", type=int, help="Training batch size" + _default("batch_size"))
@click.option(
    "--eval-batch-size", type=int, help="Evaluation batch size" + _default("eval_batch_size")
)
@click.option("--lr", type=float, help="Learning rate (peak for one-cycle)" + _default("lr"))
@click.option("--weight-decay", type=float, help="AdamW weight decay" + _default("weight_decay"))
@click.option(
    "--schedule",
    type=click.Choice(["onecycle", "cosine", "plateau", "constant"]),
    help="Learning-rate schedule" + _default("schedule"),
)
@click.option(
    "--patience", type=int, help="Early-stopping patience in epochs, 0 = off" + _default("patience")
)
@click.option("--label-smoothing", type=float, help="Label smoothing" + _default("label_smoothing"))
@click.option("--grad-clip", type=float, help="Gradient norm clip, 0 = off" + _default("grad_clip"))
@click.option(
    "--accum-steps", type=int, help="Gradient accumulation steps" + _default("accum_steps")
)
@click.option(
    "--aux-weight", type=float, help="Weight of the auxiliary digit loss" + _default("aux_weight")
)
@click.option("--subset", type=int, help="Train on this many pairs only, 0 = all")
@click.option(
    "--subset-mode",
    type=click.Choice(["first", "random"]),
    help="Which pairs --subset keeps" + _default("subset_mode"),
)
@click.option("--augment/--no-augment", default=None, help="Random affine per pair  [default: on]")
@click.option(
    "--swap/--no-swap", default=None, help="Random a/b swap per the label rule  [default: on]"
)
@click.option("--seed", type=int, help="Random seed" + _default("seed"))
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Compute device" + _default("device"),
)
@click.option(
    "--threads",
    type=int,
    help="CPU threads per process, 0 = all cores (shared among data-parallel processes)"
    + _default("threads"),
)
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last epoch")
@plugins_dir_option
@click.option("--no-progress", is_flag=True, help="No progress bar or per-epoch lines")
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
def train(
    ctx,
    config_file,
    out,
    resume,
    plugins_dir,
    no_progress,
    arch_param,
    loss_param,
    nproc,
    backend,
    **options,
):
    """Train one pair model into a run directory (model.pt, metrics.json, history, logs)."""
    from pairzoo.errors import PairzooError

    if nproc > 1:
        ctx.exit(_launch(ctx, nproc))
    try:
        metrics = _train(
            config_file,
            out,
            resume,
            plugins_dir,
            not no_progress,
            arch_param,
            loss_param,
            options,
            backend,
        )
    except PairzooError as exc:
        rank = os.environ.get("RANK", "0") if "WORLD_SIZE" in os.environ else "0"
        raise click.ClickException(("" if rank == "0" else f"rank {rank}: ") + str(exc)) from exc
    if os.environ.get("RANK", "0") != "0":
        return  # one summary line per data-parallel run, from rank 0
    val = metrics["val"]
    line = f"{out}: best epoch {metrics['best_epoch']}, val accuracy {val['accuracy']:.4f}"
    if metrics.get("test_public"):
        line += f", test_public accuracy {metrics['test_public']['accuracy']:.4f}"
    click.echo(line)


def _train(
    config_file, out, resume, plugins_dir, progress, arch_param, loss_param, options, backend
) -> dict:
    from pairzoo.plugins import load_plugins
    from pairzoo.train import train_run
    from pairzoo.train.config import load_toml, merge

    load_plugins(plugins_dir)
    base: dict = {}
    if config_file:
        base = load_toml(config_file)
    elif resume and (Path(out) / "config.json").exists():
        base = load_toml(Path(out) / "config.json")
    return train_run(
        merge(base, _overrides(options, arch_param, loss_param)),
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


def _overrides(options: dict, arch_param, loss_param) -> dict:
    from pairzoo.train.config import parse_assignments

    cfg: dict = {k: options[o] for o, k in _TOP.items() if options.get(o) is not None}
    arch = {k: options[o] for o, k in _ARCH.items() if options.get(o) is not None}
    if "layers" in arch:
        arch["layers"] = _int_list(arch["layers"])
    if "heads" in arch:
        arch["heads"] = [h.strip() for h in arch["heads"].split(",") if h.strip()]
    arch.update(parse_assignments(arch_param, "--arch-param"))
    loss = parse_assignments(loss_param, "--loss-param")
    train = {k: options[k] for k in _TRAIN if options.get(k) is not None}
    for flag in ("augment", "swap"):
        if options.get(flag) is not None:
            train[flag] = options[flag]
    for key, value in (("arch_params", arch), ("loss_params", loss), ("train", train)):
        if value:
            cfg[key] = value
    return cfg


def _int_list(text: str) -> list:
    from pairzoo.errors import ConfigError

    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(
            f"--layers '{text}': expected comma-separated integers, e.g. 3,3,3"
        ) from None
