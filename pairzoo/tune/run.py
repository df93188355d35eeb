"""`run_tune`: a study of trials over one base config, its summary and its best run.

``OUT/trials/trial-NNNN`` holds each trial's run, ``OUT/best`` a copy of the best finished one,
``OUT/study.json`` the summary (rewritten after every trial). Running again with the same
storage and study continues: only the trials missing to reach ``n_trials`` finished or pruned
ones are run, and finished ones are never trained again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairzoo.atomic import write_json
from pairzoo.errors import ConfigError, PairzooError
from pairzoo.plugins import catalog
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runconfig import RunConfig
from pairzoo.tune.best import publish_best
from pairzoo.tune.objective import make_objective, trial_dir_name
from pairzoo.tune.space import apply_params, derive_space, split_key
from pairzoo.tune.spacefile import combine, load_space_file
from pairzoo.tune.study import check_signature, open_storage, open_study
from pairzoo.tune.summary import COUNTED, build_summary

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig


@dataclass
class TuneSettings:
    n_trials: int
    out: Path
    storage: str | None = None
    study: str | None = None  # default: the --out folder's name
    space_file: str | None = None
    seed: int = 0
    pruner: str = "median"
    warmup_epochs: int = 0
    startup_trials: int | None = None  # TPE's random start; default from n_trials
    timeout: float | None = None
    baseline: bool = True  # first trial trains the base config unchanged
    echo: Any = None  # called with one line per finished trial


@dataclass
class TuneResult:
    summary: dict[str, Any]
    ran: int  # trials run by this call
    best_dir: Path | None
    dims: list = field(default_factory=list)


def run_tune(config: dict[str, Any], s: TuneSettings) -> TuneResult:
    """Search around user config `config`; raises ConfigError, PluginError, DataError."""
    import optuna

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial comes from `echo`
    try:
        return _run(config, s)
    finally:
        optuna.logging.set_verbosity(previous)


def _run(config: dict[str, Any], s: TuneSettings) -> TuneResult:
    if s.n_trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {s.n_trials}")
    out = Path(s.out)
    name = s.study or out.resolve().name
    dims, fixed, base = _space(config, s.space_file, out)
    _check_out(out, s.storage, name)
    storage = open_storage(s.storage)
    startup = s.startup_trials or max(2, min(10, s.n_trials // 3))
    study = open_study(storage, name, s.seed, s.pruner, s.warmup_epochs, startup)
    signature = {"config_hash": base.hash(), "space": [d.describe() for d in dims]}
    check_signature(study, signature, s.storage or "memory")
    if s.baseline and not study.get_trials(deepcopy=False):
        _enqueue_baseline(study, base, dims)
    info = _info(config, s, dims, fixed)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    ran = 0

    def after_trial(study, trial) -> None:
        nonlocal ran
        ran += 1
        best = _best(study)
        if best is not None and best.number == trial.number:
            _publish(study, out, name)
        _write(study, out, info, None if best is None else best.number)
        if s.echo is not None:
            s.echo(_line(trial, _counted(study), s.n_trials))

    try:
        _optimize(study, make_objective(config, dims, fixed, out / "trials", name), s, after_trial)
    finally:
        best = _publish(study, out, name)
        summary = _write(study, out, info, best)
    return TuneResult(summary, ran, None if best is None else out / "best", dims)


def _optimize(study, objective, s: TuneSettings, after_trial) -> None:
    """Run the trials missing to reach `s.n_trials` finished or pruned ones."""
    import optuna

    remaining = s.n_trials - _counted(study)
    if remaining <= 0:
        return
    counted = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    study.optimize(
        objective,
        n_trials=remaining,
        timeout=s.timeout,
        catch=(PairzooError,),  # a trial whose config fails is recorded as failed; others go on
        callbacks=[optuna.study.MaxTrialsCallback(s.n_trials, states=counted), after_trial],
        gc_after_trial=True,
    )


def _space(config: dict, space_file: str | None, out: Path) -> tuple[list, dict, RunConfig]:
    """(dims, fixed values, the resolved base config with the fixed values in it)."""
    cfg = RunConfig.from_dict(resolve_config(config, out))
    cat = catalog()
    derived, entries = (True, {}) if space_file is None else load_space_file(space_file, cfg, cat)
    dims, fixed = combine(derive_space(cfg, cat), derived, entries)
    if not dims:
        raise ConfigError(
            f"{space_file}: the space searches nothing (every dimension is fixed or off); "
            "give at least one range or choices"
        )
    if fixed:
        cfg = RunConfig.from_dict(resolve_config(apply_params(config, fixed), out))
    return dims, fixed, cfg


def _check_out(out: Path, storage: str | None, name: str) -> None:
    summary = out / "study.json"
    trials = out / "trials"
    if summary.exists():
        try:
            old = json.loads(summary.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if old.get("storage") is None:
            raise ConfigError(
                f"{out} holds in-memory study '{old.get('study')}', which cannot be resumed; "
                "choose another --out"
            )
        if old.get("storage") != storage or old.get("study") != name:
            raise ConfigError(
                f"{out} holds study '{old.get('study')}' of --storage {old.get('storage')}; "
                "resume it with that --storage and --study, or choose another --out"
            )
    elif trials.is_dir() and any(trials.iterdir()):
        raise ConfigError(f"{trials} holds trials of an unknown study; choose another --out")


def _enqueue_baseline(study, base: RunConfig, dims: list) -> None:
    """Trial 0 trains the base config: the best is then never worse than the starting point."""
    params, config = {}, base.to_dict()
    for dim in dims:
        section, key = split_key(dim.key)
        value = dim.param_of(config[section].get(key))
        if value is not None:
            params[dim.key] = value
    study.enqueue_trial(params, user_attrs={"baseline": True})


def _counted(study) -> int:
    return sum(1 for t in study.get_trials(deepcopy=False) if t.state.name in COUNTED)


def _best(study):
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    return max(finished, key=lambda t: (t.value, -t.number)) if finished else None


def _publish(study, out: Path, name: str) -> int | None:
    """Copy the best finished trial to OUT/best; its number, or None when there is none."""
    best = _best(study)
    if best is None:
        return None
    trial_dir = out / "trials" / trial_dir_name(best.number)
    if not (trial_dir / "metrics.json").exists():
        return None  # finished by another process writing to another --out
    publish_best(trial_dir, out / "best", name)
    return best.number


def _write(study, out: Path, info: dict, best: int | None) -> dict:
    summary = build_summary(study, out, info, best)
    write_json(out / "study.json", summary)
    return summary


def _info(config: dict, s: TuneSettings, dims: list, fixed: dict) -> dict:
    return {
        "storage": s.storage,
        "n_trials": s.n_trials,
        "seed": s.seed,
        "pruner": s.pruner,
        "warmup_epochs": s.warmup_epochs,
        "space": [d.describe() for d in dims],
        "fixed": fixed,
        "base_config": config,
    }


def _line(trial, counted: int, n_trials: int) -> str:
    value = "-" if trial.value is None else f"{trial.value:.4f}"
    params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
    secs = trial.duration.total_seconds() if trial.duration else 0.0
    line = (
        f"trial {trial.number} {trial.state.name.lower()} ({counted}/{n_trials}): val {value}, "
        f"{_epochs(len(trial.intermediate_values))}, {secs:.1f} s; {params}"
    )
    error = trial.user_attrs.get("error")
    return f"{line}; error: {error}" if error else line


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"
