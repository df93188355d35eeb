"""Opening an Optuna study: storage, seeded sampler, pruner, and the check that a resumed study
searches the same thing it searched before.

Trials of a process that was killed stay RUNNING in the storage. They are not counted towards
``--trials``; the storage's heartbeat marks them FAIL once it is older than the grace period.
"""

from __future__ import annotations

import warnings
from typing import Any

from pairzoo.errors import ConfigError

PRUNERS = ("median", "halving", "none")
HEARTBEAT_S = 20  # a RUNNING trial without a heartbeat for 3x this long counts as failed
SIGNATURE_ATTR = "pairzoo_tune"


def open_storage(url: str | None):
    """An RDB storage with heartbeats for `url`, or None (in-memory); ConfigError if unusable."""
    if url is None:
        return None
    import optuna

    if "://" not in url:
        raise ConfigError(
            f"--storage '{url}' is not a database URL; expected e.g. sqlite:///tune.db"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=HEARTBEAT_S, grace_period=3 * HEARTBEAT_S
            )
    except Exception as exc:  # sqlalchemy: bad URL, missing driver, unreachable file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"--storage '{url}': cannot open the database ({first})") from None


def open_study(
    storage,
    name: str,
    seed: int,
    pruner: str,
    warmup_epochs: int,
    startup_trials: int,
):
    """The study `name` (created, or loaded when it exists) with a TPE sampler and a pruner.

    The sampler's seed is `seed` plus the number of trials already in the study, so a resumed
    study draws new points instead of repeating the first run's random start.
    """
    import optuna

    sampler = optuna.samplers.TPESampler(
        seed=seed + _n_trials(storage, name), n_startup_trials=startup_trials
    )
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="maximize",
        load_if_exists=True,
        sampler=sampler,
        pruner=make_pruner(pruner, warmup_epochs),
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise ConfigError(f"study '{name}' minimises; pairzoo tune maximises val accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # killed processes' trials, heartbeat expired
    return study


def _n_trials(storage, name: str) -> int:
    if storage is None:
        return 0
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))


def make_pruner(name: str, warmup_epochs: int):
    """MedianPruner, SuccessiveHalvingPruner or NopPruner; no decision in the first epochs."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=warmup_epochs)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warmup_epochs + 1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"--pruner '{name}': expected one of {', '.join(PRUNERS)}")


def check_signature(study, signature: dict[str, Any], where: str) -> None:
    """Record what `study` searches, or refuse a study that searched something else."""
    old = study.user_attrs.get(SIGNATURE_ATTR)
    if old is None:
        if study.get_trials(deepcopy=False):
            raise ConfigError(
                f"study '{study.study_name}' in {where} has trials from elsewhere "
                "(no pairzoo tune record); choose another --study"
            )
        study.set_user_attr(SIGNATURE_ATTR, signature)
        return
    for key in ("config_hash", "space"):
        if old.get(key) != signature[key]:
            what = "base config" if key == "config_hash" else "search space"
            raise ConfigError(
                f"study '{study.study_name}' in {where} was run with a different {what}; "
                "resume it with the same options and space file, or choose another --study"
            )
