"""`pairzoo distill`: one model trained on a registry ensemble's soft targets, then compared."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pairzoo.cli.options import plugins_dir_option, registry_option
from pairzoo.train.config import TOP_DEFAULTS, TRAIN_DEFAULTS  # stdlib only: no torch here

_TRAIN = (
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "schedule",
    "patience",
    "aux_weight",
    "subset",
    "subset_mode",
    "device",
    "threads",
)


def _default(key: str) -> str:
    return f"  [default: {TRAIN_DEFAULTS.get(key, TOP_DEFAULTS.get(key))}]"


@click.command()
@click.option("--ensemble", required=True, help="Registry ensemble entry, NAME[@VERSION]")
@registry_option
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Run directory, e.g. runs/NAME"
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML config or a run's config.json to start from; options given here override it",
)
@click.option("--data", help="Data directory" + _default("data"))
@click.option("--arch", help="Student architecture" + _default("arch"))
@click.option("--arch-param", multiple=True, metavar="KEY=VALUE", help="Any architecture parameter")
@click.option(
    "--loss-param",
    multiple=True,
    metavar="KEY=VALUE",
    help="Distill loss parameter: temperature, alpha, label_smoothing",
)
@click.option("--epochs", type=int, help="Maximum epochs" + _default("epochs"))
@click.option("--batch-size", type=int, help="Training batch size" + _default("batch_size"))
@click.option("--lr", type=float, help="Learning rate (peak for one-cycle)" + _default("lr"))
@click.option("--weight-decay", type=float, help="AdamW weight decay" + _default("weight_decay"))
@click.option(
    "--schedule",
    type=click.Choice(["onecycle", "cosine", "plateau", "constant"]),
    help="Learning-rate schedule" + _default("schedule"),
)
@click.option(
    "--patience", type=int, help="Early-stopping patience, 0 = off" + _default("patience")
)
@click.option("--aux-weight", type=float, help="Weight of the digit loss" + _default("aux_weight"))
@click.option("--subset", type=int, help="Train on this many pairs only, 0 = all")
@click.option(
    "--subset-mode",
    type=click.Choice(["first", "random"]),
    help="Which pairs --subset keeps" + _default("subset_mode"),
)
@click.option("--augment/--no-augment", default=None, help="Random affine per pair  [default: on]")
@click.option("--swap/--no-swap", default=None, help="Random a/b swap per the label rule")
@click.option("--seed", type=int, help="Random seed" + _default("seed"))
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    help="Compute device" + _default("device"),
)
@click.option(
    "--threads",
    type=int,
    help="CPU threads for training and onnxruntime, 0 = all cores" + _default("threads"),
)
@click.option("--resume", is_flag=True, help="Continue the run in --out with its saved teacher")
@click.option(
    "--register/--no-register",
    default=True,
    help="Export the student to ONNX and add it to the registry  [default: on]",
)
@click.option("--name", help="Run and registry name (default: the --out folder's name)")
@plugins_dir_option
@click.option("--no-progress", is_flag=True, help="No progress bar or per-epoch lines")
@click.option("--json", "as_json", is_flag=True, help="Print distill_report.json instead")
def distill(
    ensemble,
    registry_dir,
    out,
    config_file,
    arch_param,
    loss_param,
    resume,
    register,
    name,
    plugins_dir,
    no_progress,
    as_json,
    **options,
):
    """Train one model on the soft targets of a registry ensemble, then compare it with them.

    The ensemble's logit for every train pair (members through onnxruntime, then its
    meta-learner) is saved as OUT/teacher_logits.npy with OUT/teacher.json, and the student
    learns from it with the distill loss. With --register the student is exported behind the
    parity gate and registered with its teacher in its card. OUT/distill_report.json compares
    student, ensemble and the best single member on val and test_public: accuracy, the share of
    the ensemble's gain kept, MACs per pair and measured pairs per second.
    """
    from pairzoo.errors import PairzooError

    try:
        result = _run(
            ensemble, registry_dir, out, config_file, arch_param, loss_param, resume,
            register, name, plugins_dir, not no_progress, options,
        )  # fmt: skip
    except PairzooError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.report, indent=2))
        return
    from pairzoo.distill.report import format_report

    if result.card is not None:
        verb = "registered" if result.registered_now else "already registered as"
        click.echo(f"{verb} {result.card['name']}@{result.card['version']}")
    click.echo(format_report(result.report))
    click.echo(f"report: {Path(out) / 'distill_report.json'}")


def _run(
    ensemble, registry_dir, out, config_file, arch_param, loss_param, resume, register, name,
    plugins_dir, progress, options,
):  # fmt: skip
    from pairzoo.distill.run import distill as run_distill
    from pairzoo.distill.run import distill_config
    from pairzoo.plugins import load_plugins
    from pairzoo.train.config import load_toml

    load_plugins(plugins_dir)
    base: dict = {}
    if config_file:
        base = load_toml(config_file)
    elif resume and (Path(out) / "config.json").exists():
        base = load_toml(Path(out) / "config.json")
        name = name or base.get("name")
    config = distill_config(base, _overrides(options, arch_param, loss_param, name))
    return run_distill(
        config,
        out,
        ensemble,
        registry=registry_dir,
        resume=resume,
        register=register,
        progress=progress,
        log=lambda message: click.echo(message, err=True) if progress else None,
    )


def _overrides(options: dict, arch_param, loss_param, name) -> dict:
    from pairzoo.train.config import parse_assignments

    cfg: dict = {k: options[k] for k in ("arch", "data", "seed") if options.get(k) is not None}
    if name:
        cfg["name"] = name
    arch = parse_assignments(arch_param, "--arch-param")
    loss = parse_assignments(loss_param, "--loss-param")
    train = {k: options[k] for k in _TRAIN if options.get(k) is not None}
    for flag in ("augment", "swap"):
        if options.get(flag) is not None:
            train[flag] = options[flag]
    for key, value in (("arch_params", arch), ("loss_params", loss), ("train", train)):
        if value:
            cfg[key] = value
    return cfg
