"""`pairzoo tune`: hyper-parameter search over one architecture, trials trained by the trainer."""

from __future__ import annotations

from pathlib import Path

import click

from pairzoo.cli.options import plugins_dir_option
from pairzoo.cli.train_options import shown_default, train_options

# Where a training option means something else in a search.
_HELP = {
    "config": "TOML base config; options override it",
    "width_mult": "Channel width multiplier (the search centres on it)",
    "epochs": "Epochs per trial" + shown_default("epochs"),
    "lr": "Base learning rate (the search centres on it)" + shown_default("lr"),
    "weight_decay": "Base AdamW weight decay" + shown_default("weight_decay"),
    "label_smoothing": "Label smoothing (fixed; not searched then)",
    "subset": "Train each trial on this many pairs only, 0 = all",
    "seed": "Seed of the sampler and of every trial's training" + shown_default("seed"),
}


@click.command()
@click.option(
    "--trials", "n_trials", type=int, required=True, help="Finished or pruned trials to reach"
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Study directory: trials/, best/ and study.json, e.g. runs/NAME",
)
@click.option(
    "--storage",
    help="Optuna database URL, e.g. sqlite:///tune.db; running again resumes (default: in memory)",
)
@click.option(
    "--study", "study_name", help="Study name in --storage (default: the --out folder's name)"
)
@click.option(
    "--space",
    "space_file",
    type=click.Path(dir_okay=False),
    help="TOML file of [train.KEY], [arch.KEY], [loss.KEY] tables: low/high/log, choices, "
    "fixed or off; derived = false searches only the file's",
)
@click.option(
    "--pruner",
    type=click.Choice(["median", "halving", "none"]),
    default="median",
    show_default=True,
    help="Stop trials whose val accuracy lags: median or successive halving",
)
@click.option(
    "--warmup-epochs",
    type=int,
    default=0,
    show_default=True,
    help="Epochs before the pruner may stop a trial",
)
@click.option(
    "--startup-trials",
    type=int,
    help="Random trials before TPE models the space (default: trials/3, 2 to 10)",
)
@click.option("--timeout", type=float, help="Start no trial after this many seconds")
@click.option(
    "--baseline/--no-baseline",
    default=True,
    help="First trial trains the base config unchanged  [default: on]",
)
@train_options(
    "config", "data", "arch", "layers", "width_mult", "feat_dim", "heads", "arch_param", "loss",
    "loss_param", "rule", "epochs", "batch_size", "lr", "weight_decay", "schedule", "patience",
    "label_smoothing", "aux_weight", "subset", "subset_mode", "augment", "swap", "seed", "device",
    "threads",
    help_for=_HELP,
)  # fmt: skip
@plugins_dir_option
@click.option("--quiet", is_flag=True, help="No line per finished trial")
def tune(config_file, out, quiet, **options):
    """Search hyper-parameters of one architecture with Optuna (TPE sampler, pruning).

    Each trial is a normal training run in OUT/trials/trial-NNNN, scored by the val accuracy of
    its best epoch and reported epoch by epoch to the pruner. The best finished trial is copied
    to OUT/best, a run directory that `pairzoo export` and `pairzoo eval` take as it is, and
    OUT/study.json lists every trial. With --storage, the same command run again resumes the
    study: it runs only the trials missing to reach --trials finished or pruned ones.

    The space centres on the base config: learning rate and weight decay (log, a tenth to ten
    times the base), the ranges plugins declared (the builtins: width_mult half to twice, label
    smoothing 0 to 0.2), any parameter whose default lists fusion heads (subsets of the base
    list), and the loss's other float parameters (half to twice). --space FILE changes it.
    """

    result = _tune(config_file, out, quiet, options)
    from pairzoo.tune.summary import table

    summary = result.summary
    click.echo(table(summary))
    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(summary["counts"].items()))
    click.echo(f"study '{summary['study']}': {counts or 'no trials'}; {result.ran} run now")
    best = summary["best"]
    if best is None:
        click.echo("no finished trial yet, so no best run")
    else:
        where = Path(out) / "best"
        click.echo(f"best: trial {best['number']}, val accuracy {best['value']:.4f} -> {where}")


def _tune(config_file, out, quiet, options):
    from pairzoo.cli.train_options import config_overrides
    from pairzoo.plugins import load_plugins
    from pairzoo.train.config import load_toml, merge
    from pairzoo.tune.run import TuneSettings, run_tune

    load_plugins()
    base = load_toml(config_file) if config_file else {}
    settings = TuneSettings(
        n_trials=options.pop("n_trials"),
        out=Path(out),
        storage=options.pop("storage"),
        study=options.pop("study_name"),
        space_file=options.pop("space_file"),
        seed=options["seed"] if options["seed"] is not None else base.get("seed", 42),
        pruner=options.pop("pruner"),
        warmup_epochs=options.pop("warmup_epochs"),
        startup_trials=options.pop("startup_trials"),
        timeout=options.pop("timeout"),
        baseline=options.pop("baseline"),
        echo=None if quiet else lambda line: click.echo(line, err=True),
    )
    return run_tune(merge(base, config_overrides(options)), settings)
