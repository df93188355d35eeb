"""`pairzoo distill`: one model trained on a registry ensemble's soft targets, then compared."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pairzoo.cli.options import no_progress_option, plugins_dir_option, registry_option
from pairzoo.cli.train_options import shown_default, train_options

# Where a training option means something else for a student.
_HELP = {
    "config": "TOML config or a run's config.json to start from; options given here override it",
    "arch": "Student architecture" + shown_default("arch"),
    "loss_param": "Distill loss parameter: temperature, alpha, label_smoothing",
    "threads": "CPU threads for training and onnxruntime, 0 = all cores" + shown_default("threads"),
    "name": "Run and registry name (default: the --out folder's name)",
}


@click.command()
@click.option("--ensemble", required=True, help="Registry ensemble entry, NAME[@VERSION]")
@registry_option
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Run directory, e.g. runs/NAME"
)
@train_options(
    "config", "data", "arch", "arch_param", "loss_param", "epochs", "batch_size", "lr",
    "weight_decay", "schedule", "patience", "aux_weight", "subset", "subset_mode", "augment",
    "swap", "seed", "device", "threads",
    help_for=_HELP,
)  # fmt: skip
@click.option("--resume", is_flag=True, help="Continue the run in --out with its saved teacher")
@click.option(
    "--register/--no-register",
    default=True,
    help="Export the student to ONNX and add it to the registry  [default: on]",
)
@train_options("name", help_for=_HELP)
@plugins_dir_option
@no_progress_option
@click.option("--json", "as_json", is_flag=True, help="Print distill_report.json instead")
def distill(as_json, **options):
    """Train one model on the soft targets of a registry ensemble, then compare it with them.

    The ensemble's logit for every train pair (members through onnxruntime, then its
    meta-learner) is saved as OUT/teacher_logits.npy with OUT/teacher.json, and the student
    learns from it with the distill loss. With --register the student is exported behind the
    parity gate and registered with its teacher in its card. OUT/distill_report.json compares
    student, ensemble and the best single member on val and test_public: accuracy, the share of
    the ensemble's gain kept, MACs per pair and measured pairs per second.
    """

    result = _run(options)
    if as_json:
        click.echo(json.dumps(result.report, indent=2))
        return
    from pairzoo.distill.report import format_report

    if result.card is not None:
        verb = "registered" if result.registered_now else "already registered as"
        click.echo(f"{verb} {result.card.ref}")
    click.echo(format_report(result.report))
    click.echo(f"report: {Path(options['out']) / 'distill_report.json'}")


def _run(options: dict):
    """The command's options as one DistillSettings, and the distillation it asks for."""
    from pairzoo.cli.train_options import base_config, config_overrides
    from pairzoo.distill.run import DistillSettings, distill_config
    from pairzoo.distill.run import distill as run_distill
    from pairzoo.plugins import load_plugins
    from pairzoo.registry import Registry

    o = dict(options)
    ensemble, registry_dir, out = o.pop("ensemble"), o.pop("registry_dir"), o.pop("out")
    config_file, resume, register = o.pop("config_file"), o.pop("resume"), o.pop("register")
    name, progress = o.pop("name"), not o.pop("no_progress")
    load_plugins()
    base = base_config(config_file, out, resume)
    if resume and not config_file:
        name = name or base.get("name")  # a resumed run keeps its name
    config = distill_config(base, config_overrides({**o, "name": name or None}))
    settings = DistillSettings(config, out, ensemble, resume, register, progress)
    log = (lambda message: click.echo(message, err=True)) if progress else (lambda message: None)
    return run_distill(Registry(registry_dir), settings, log=log)
