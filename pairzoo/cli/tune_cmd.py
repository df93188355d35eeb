"""`pairzoo tune`: hyper-parameter search over one architecture, trials trained by the trainer."""

from __future__ import annotations

from pathlib import Path

import click

from pairzoo.cli.options import plugins_dir_option


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
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML base config; options override it",
)
@click.option("--data", help="Data directory  [default: data]")
@click.option("--arch", help="Architecture name  [default: resnet]")
@click.option("--layers", help="Blocks per stage, e.g. 3,3,3")
@click.option(
    "--width-mult", type=float, help="Channel width multiplier (the search centres on it)"
)
@click.option("--feat-dim", type=int, help="Embedding size")
@click.option("--heads", help="Fusion heads, e.g. diff,concat,product")
@click.option("--arch-param", multiple=True, metavar="KEY=VALUE", help="Any architecture parameter")
@click.option("--loss", help="Loss name  [default: bce]")
@click.option("--loss-param", multiple=True, metavar="KEY=VALUE", help="Any loss parameter")
@click.option("--rule", help="Label rule (default: the data's meta.json)")
@click.option("--epochs", type=int, help="Epochs per trial  [default: 20]")
@click.option("--batch-size", type=int, help="Training batch size  [default: 64]")
@click.option(
    "--lr", type=float, help="Base learning rate (the search centres on it)  [default: 0.001]"
)
@click.option("--weight-decay", type=float, help="Base AdamW weight decay  [default: 0.0005]")
@click.option(
    "--schedule",
    type=click.Choice(["onecycle", "cosine", "plateau", "constant"]),
    help="Learning-rate schedule  [default: onecycle]",
)
@click.option(
    "--patience", type=int, help="Early-stopping patience in epochs, 0 = off  [default: 5]"
)
@click.option("--label-smoothing", type=float, help="Label smoothing (fixed; not searched then)")
@click.option("--aux-weight", type=float, help="Weight of the auxiliary digit loss  [default: 0.3]")
@click.option("--subset", type=int, help="Train each trial on this many pairs only, 0 = all")
@click.option(
    "--subset-mode", type=click.Choice(["first", "random"]), help="Which pairs --subset keeps"
)
@click.option("--augment/--no-augment", default=None, help="Random affine per pair  [default: on]")
@click.option(
    "--swap/--no-swap", default=None, help="Random a/b swap per the label rule  [default: on]"
)
@click.option(
    "--seed", type=int, help="Seed of the sampler and of every trial's training  [default: 42]"
)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Compute device")
@click.option("--threads", type=int, help="CPU threads, 0 = all cores")
@plugins_dir_option
@click.option("--quiet", is_flag=True, help="No line per finished trial")
def tune(config_file, out, plugins_dir, quiet, arch_param, loss_param, **options):
    """Search hyper-parameters of one architecture with Optuna (TPE sampler, pruning).

    Each trial is a normal training run in OUT/trials/trial-NNNN, scored by the val accuracy of
    its best epoch and reported epoch by epoch to the pruner. The best finished trial is copied
    to OUT/best, a run directory that `pairzoo export` and `pairzoo eval` take as it is, and
    OUT/study.json lists every trial. With --storage, the same command run again resumes the
    study: it runs only the trials missing to reach --trials finished or pruned ones.

    The space centres on the base config: learning rate and weight decay (log, a tenth to ten
    times the base), any architecture parameter whose name holds "width" (log, half to twice),
    any parameter whose default lists fusion heads (subsets of the base list), and the loss's
    float parameters (label smoothing 0 to 0.2; others half to twice). --space FILE changes it.
    """
    from pairzoo.errors import PairzooError

    try:
        result = _tune(config_file, out, plugins_dir, quiet, arch_param, loss_param, options)
    except PairzooError as exc:
        raise click.ClickException(str(exc)) from exc
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


def _tune(config_file, out, plugins_dir, quiet, arch_param, loss_param, options):
    from pairzoo.cli.train_cmd import _overrides
    from pairzoo.plugins import load_plugins
    from pairzoo.train.config import load_toml, merge
    from pairzoo.tune.run import TuneSettings, run_tune

    load_plugins(plugins_dir)
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
    return run_tune(merge(base, _overrides(options, arch_param, loss_param)), settings)
