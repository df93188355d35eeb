"""Options that set training config keys, declared once for `train`, `tune` and `distill`.

`train_options(...)` puts a named subset of them on a command; `config_overrides(options)` turns
the parsed values into the config they override. An option left at None was not given, so the
config file (or the defaults) decides.
"""

from __future__ import annotations

from pathlib import Path

import click

# stdlib only: no torch here
from pairzoo.train.config import (
    DEVICES,
    PAIRS,
    SCHEDULES,
    SUBSET_MODES,
    TOP_DEFAULTS,
    TRAIN_DEFAULTS,
    load_toml,
    parse_assignments,
)


def shown_default(key: str) -> str:
    """The help suffix that shows a config key's default, e.g. `  [default: 20]`."""
    return f"  [default: {TRAIN_DEFAULTS.get(key, TOP_DEFAULTS.get(key))}]"


def _kv(text: str) -> dict:
    return {"multiple": True, "metavar": "KEY=VALUE", "help": text}


# Parameter name -> (click declarations, click attributes), in the order `pairzoo train` shows them.
_OPTIONS: dict[str, tuple[tuple[str, ...], dict]] = {
    "config": (
        ("--config", "config_file"),
        {
            "type": click.Path(dir_okay=False),
            "help": "TOML config file; options given here override it",
        },
    ),
    "name": (("--name",), {"help": "Run name (default: the --out folder's name)"}),
    "data": (("--data",), {"help": "Data directory" + shown_default("data")}),
    "arch": (("--arch",), {"help": "Architecture name" + shown_default("arch")}),
    "layers": (("--layers",), {"help": "Blocks per stage, e.g. 3,3,3"}),
    "width_mult": (("--width-mult",), {"type": float, "help": "Channel width multiplier"}),
    "feat_dim": (("--feat-dim",), {"type": int, "help": "Embedding size"}),
    "heads": (("--heads",), {"help": "Fusion heads, e.g. diff,concat,product"}),
    "arch_param": (("--arch-param",), _kv("Any architecture parameter (JSON-ish value)")),
    "loss": (("--loss",), {"help": "Loss name" + shown_default("loss")}),
    "loss_param": (("--loss-param",), _kv("Any loss parameter (JSON-ish value)")),
    "rule": (("--rule",), {"help": "Label rule (default: the data's meta.json)"}),
    "epochs": (("--epochs",), {"type": int, "help": "Maximum epochs" + shown_default("epochs")}),
    "batch_size": (
        ("--batch-size",),
        {"type": int, "help": "Training batch size" + shown_default("batch_size")},
    ),
    "eval_batch_size": (
        ("--eval-batch-size",),
        {"type": int, "help": "Evaluation batch size" + shown_default("eval_batch_size")},
    ),
    "lr": (
        ("--lr",),
        {"type": float, "help": "Learning rate (peak for one-cycle)" + shown_default("lr")},
    ),
    "weight_decay": (
        ("--weight-decay",),
        {"type": float, "help": "AdamW weight decay" + shown_default("weight_decay")},
    ),
    "schedule": (
        ("--schedule",),
        {
            "type": click.Choice(SCHEDULES),
            "help": "Learning-rate schedule" + shown_default("schedule"),
        },
    ),
    "patience": (
        ("--patience",),
        {
            "type": int,
            "help": "Early-stopping patience in epochs, 0 = off" + shown_default("patience"),
        },
    ),
    "label_smoothing": (
        ("--label-smoothing",),
        {"type": float, "help": "Label smoothing" + shown_default("label_smoothing")},
    ),
    "grad_clip": (
        ("--grad-clip",),
        {"type": float, "help": "Gradient norm clip, 0 = off" + shown_default("grad_clip")},
    ),
    "accum_steps": (
        ("--accum-steps",),
        {"type": int, "help": "Gradient accumulation steps" + shown_default("accum_steps")},
    ),
    "aux_weight": (
        ("--aux-weight",),
        {"type": float, "help": "Weight of the auxiliary digit loss" + shown_default("aux_weight")},
    ),
    "subset": (("--subset",), {"type": int, "help": "Train on this many pairs only, 0 = all"}),
    "subset_mode": (
        ("--subset-mode",),
        {
            "type": click.Choice(SUBSET_MODES),
            "help": "Which pairs --subset keeps" + shown_default("subset_mode"),
        },
    ),
    "pairs": (
        ("--pairs",),
        {
            "type": click.Choice(PAIRS),
            "help": "fresh: new corrupted pairs every epoch from the train split's source digits"
            " (generated data); auto: fresh where the data allows, else fixed"
            + shown_default("pairs"),
        },
    ),
    "augment": (
        ("--augment/--no-augment",),
        {"default": None, "help": "Random affine per pair  [default: on]"},
    ),
    "swap": (
        ("--swap/--no-swap",),
        {"default": None, "help": "Random a/b swap per the label rule  [default: on]"},
    ),
    "seed": (("--seed",), {"type": int, "help": "Random seed" + shown_default("seed")}),
    "device": (
        ("--device",),
        {"type": click.Choice(DEVICES), "help": "Compute device" + shown_default("device")},
    ),
    "threads": (
        ("--threads",),
        {"type": int, "help": "CPU threads, 0 = all cores" + shown_default("threads")},
    ),
    "init_from": (
        ("--init-from",),
        {
            "metavar": "RUN",
            "help": "Start from the weights of this run (directory or model.pt) of the same "
            "architecture, e.g. one trained on data with digit labels",
        },
    ),
}

# Where each option's value goes in the config; arch_param and loss_param are parsed apart.
_TOP = ("arch", "loss", "seed", "data", "name", "rule")
_ARCH = ("layers", "width_mult", "feat_dim", "heads")
_TRAIN = (
    "epochs", "batch_size", "eval_batch_size", "lr", "weight_decay", "schedule", "patience",
    "label_smoothing", "grad_clip", "accum_steps", "aux_weight", "subset", "subset_mode",
    "pairs", "device", "threads", "augment", "swap", "init_from",
)  # fmt: skip


def train_options(*names: str, help_for: dict[str, str] | None = None):
    """Decorator putting the options `names` on a command, in that order.

    `help_for` maps a name to the help it has in this command, where its meaning there differs
    (e.g. `tune`'s --epochs counts the epochs of each trial).
    """
    help_for = help_for or {}

    def decorate(command):
        for name in reversed(names):
            decls, attrs = _OPTIONS[name]
            if name in help_for:
                attrs = {**attrs, "help": help_for[name]}
            command = click.option(*decls, **attrs)(command)
        return command

    return decorate


def base_config(config_file: str | None, out: str, resume: bool) -> dict:
    """The config the options override: --config, else with --resume the run's config.json."""
    if config_file:
        return load_toml(config_file)
    if resume and (Path(out) / "config.json").exists():
        return load_toml(Path(out) / "config.json")
    return {}


def config_overrides(options: dict) -> dict:
    """The config that the given options override, in the sections `merge` expects.

    Keys of `options` that are not training options (--out, --resume, ...) are ignored.
    """
    cfg: dict = {k: options[k] for k in _TOP if options.get(k) is not None}
    arch = {k: options[k] for k in _ARCH if options.get(k) is not None}
    if "layers" in arch:
        arch["layers"] = _int_list(arch["layers"])
    if "heads" in arch:
        arch["heads"] = [h.strip() for h in arch["heads"].split(",") if h.strip()]
    arch.update(parse_assignments(options.get("arch_param", ()), "--arch-param"))
    loss = parse_assignments(options.get("loss_param", ()), "--loss-param")
    train = {k: options[k] for k in _TRAIN if options.get(k) is not None}
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
