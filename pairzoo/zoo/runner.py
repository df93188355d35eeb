"""Run a zoo: train every model (skipping finished runs, resuming interrupted ones), export the
models that learned into the registry, and fit and evaluate the stacking ensemble.

A model that fails is recorded with its error and the others go on; nothing here exits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pairzoo.data.meta import data_fingerprint
from pairzoo.ensemble.pipeline import run_ensemble_eval
from pairzoo.ensemble.settings import EvalSettings
from pairzoo.ensemble.stacking import StackingParams
from pairzoo.errors import PairzooError
from pairzoo.estimate.on_register import card_calibrator
from pairzoo.estimate.record import calibrated_as
from pairzoo.exporting.run_export import export_run, run_key
from pairzoo.registry import Registry
from pairzoo.train.resolve import data_rule
from pairzoo.zoo import budget, pretrain
from pairzoo.zoo.chains import Chains
from pairzoo.zoo.progress import Progress
from pairzoo.zoo.spec import ZooSpec
from pairzoo.zoo.training import (
    FAILED,
    KEPT,
    RESUMED,
    TRAINED,
    Job,
    Trained,
    describe,
    prepare,
    read_json,
    starting_from,
    train_here,
    train_in_workers,
)

ENSEMBLE_DIR = "ensemble"
NO_LEARN = "failed to learn"
# Statuses of a model after training: ok ones are exported and join the ensemble.
OK_STATUSES = (TRAINED, RESUMED, KEPT)


@dataclass
class ModelOutcome:
    name: str
    stage: int
    description: str
    run_dir: Path
    start_from: str = ""  # the model whose trained weights this one started from
    status: str = ""
    error: str | None = None
    metrics: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    ref: str | None = None  # registry name@version
    export: str | None = None  # exported | held | failed
    export_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES and self.export != "failed"


@dataclass
class ZooResult:
    spec: ZooSpec
    data_dir: Path
    runs_dir: Path
    registry_dir: Path
    models: list[ModelOutcome]
    ensemble: dict[str, Any] | None = None  # the ensemble report, when it ran
    ensemble_status: str = ""  # evaluated | kept | skipped | failed
    ensemble_error: str | None = None
    wall_s: float = 0.0
    phases_s: dict[str, float] = field(default_factory=dict)
    budget: budget.Plan | None = None  # pairs per epoch fitted to settings.train_minutes

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.models) and self.ensemble_status != "failed"


@dataclass(frozen=True)
class ZooRun:
    """One run of a zoo as its steps share it, built once by `run_zoo`."""

    spec: ZooSpec
    data_dir: Path
    runs_dir: Path
    registry_dir: Path
    force: bool  # retrain finished runs too
    bar: Progress
    say: Callable[[str], None]


@dataclass(frozen=True)
class ZooRunSettings:
    """Where a zoo runs, and how: the command line's values beside the zoo file's own."""

    data_dir: str | Path
    runs_dir: str | Path
    registry_dir: str | Path
    force: bool = False  # retrain finished runs too
    progress: bool = True


def run_zoo(
    spec: ZooSpec, settings: ZooRunSettings, echo: Callable[[str], None] | None = None
) -> ZooResult:
    """Train, export and ensemble `spec`'s models; returns what happened to each.

    Finished runs whose config hashes the same are kept (``settings.force`` retrains them); an
    unfinished one is resumed. With ``spec.settings["jobs"]`` above 1, models train in that many worker
    processes (which load the plugins of $PAIRZOO_PLUGINS_DIR too). Raises only for problems common to every model; a
    model's own failure is recorded in its outcome.
    """
    start = time.perf_counter()
    data_dir, runs_dir = Path(settings.data_dir), Path(settings.runs_dir)
    registry_dir, force = Path(settings.registry_dir), settings.force
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [
        ModelOutcome(m.name, m.stage, m.description, runs_dir / m.name, m.start_from)
        for m in spec.models
    ]
    result = ZooResult(spec, data_dir, runs_dir, registry_dir, outcomes)
    bar = Progress(total=2 * len(outcomes) + 1, enabled=settings.progress)
    run = ZooRun(spec, data_dir, runs_dir, registry_dir, force, bar, echo or bar.write)
    try:
        t = time.perf_counter()
        result.budget = _train_all(run, outcomes)
        result.phases_s["train"] = time.perf_counter() - t
        t = time.perf_counter()
        _export_all(run, outcomes)
        result.phases_s["export"] = time.perf_counter() - t
        t = time.perf_counter()
        _ensemble(result, run.say)
        bar.step("ensemble")
        result.phases_s["ensemble"] = time.perf_counter() - t
    finally:
        bar.close()
    result.wall_s = time.perf_counter() - start
    return result


def _train_all(run: ZooRun, outcomes: list[ModelOutcome]) -> budget.Plan | None:
    """Train every model (within the zoo's time budget, if it has one); returns the budget's plan."""
    by_name = {o.name: o for o in outcomes}
    floor = run.spec.settings["min_val_accuracy"]

    def done(trained: Trained) -> None:
        _record(by_name[trained.name], trained, floor, run.say)
        run.bar.step(f"trained {trained.name}")

    jobs = [
        Job(model.name, {**model.config, "data": str(run.data_dir)}, outcome.run_dir)
        for model, outcome in zip(run.spec.models, outcomes, strict=True)
    ]
    jobs, plan = budget.sized_jobs(jobs, run.spec.settings, run.runs_dir, run.say)
    _prepare_and_train(run, _pretrained(run, jobs), done, by_name)
    return plan


def _prepare_and_train(run: ZooRun, jobs: list[Job], done, outcomes=None) -> None:
    """Prepare each job (one that cannot be prepared is done, failed), then train the rest, a
    chained model once the model it starts from is done; `outcomes` (by name), if given, get the
    status prepare decided before the model trains."""
    parents = {m.name: m.start_from for m in run.spec.models}
    chains = Chains(jobs, parents, run.say)

    def finish(trained: Trained) -> list[Job]:
        done(trained)
        return chains.released(trained)

    def admit(batch: list[Job]) -> list[Job]:
        """The jobs of `batch` (and of the kept jobs they release) that must train."""
        ready, waiting = [], list(batch)
        while waiting:
            job = waiting.pop(0)
            try:
                status = prepare(job, run.force, run.say)
            except Exception as exc:  # e.g. an unknown architecture: this model fails, others go on
                waiting += finish(Trained(job.name, None, describe(exc), 0.0))
                continue
            if outcomes is not None:
                outcomes[job.name].status = status
            if status == KEPT:  # a finished run is only read back: no worker process for it
                waiting += finish(train_here(job, run.bar))
            else:
                ready.append(job)
        return ready

    ready = admit(chains.roots())
    workers = run.spec.settings["jobs"]
    if workers > 1 and len(jobs) > 1 and ready:
        train_in_workers(ready, workers, run.bar, lambda t: admit(finish(t)), chains.ranked)
        return
    while ready:
        ready = chains.ranked(ready[1:] + admit(finish(train_here(ready[0], run.bar))))


def _pretrained(run: ZooRun, jobs: list[Job]) -> list[Job]:
    """`jobs`, each starting from its tower's pretrained weights when the data has no digit
    labels (see pairzoo/zoo/pretrain.py); a model whose pretraining failed starts from scratch."""
    say = run.say
    try:
        if not pretrain.wanted(run.spec.settings, run.data_dir):
            return jobs
        say("pretraining: the train split has no digit labels; each tower first learns digits")
        rule = data_rule(run.data_dir)
        data = pretrain.pretrain_data(run.runs_dir, run.spec.settings, rule, say)
    except PairzooError as exc:  # unreadable data: each model reports it when it is prepared
        say(f"pretraining: skipped ({exc})")
        return jobs
    towers, of_model = pretrain.pretrain_jobs(jobs, data)
    finished: set[str] = set()

    def done(trained: Trained) -> None:
        if trained.error is not None:
            say(f"{trained.name}: FAILED: {trained.error}; its models start from scratch")
        else:
            finished.add(trained.name)
            acc = trained.metrics["val"]["accuracy"]
            say(f"{trained.name}: val accuracy {100 * acc:.2f}% on the generated data")

    _prepare_and_train(run, towers, done)
    return [
        starting_from(job, of_model[job.name].out) if of_model[job.name].name in finished else job
        for job in jobs
    ]


def _record(outcome: ModelOutcome, trained: Trained, floor: float, say) -> None:
    outcome.wall_s = trained.wall_s
    if trained.error is not None:
        outcome.status, outcome.error = FAILED, trained.error
        say(f"{outcome.name}: FAILED: {outcome.error}")
        return
    metrics = trained.metrics
    outcome.metrics = metrics
    outcome.history = read_json(outcome.run_dir / "history.json", [])
    acc = metrics["val"]["accuracy"]
    if acc <= floor:
        outcome.status = NO_LEARN
        outcome.error = f"val accuracy {100 * acc:.2f}% is at or below {100 * floor:.0f}%"
        say(f"{outcome.name}: FAILED TO LEARN: {outcome.error}")
    elif outcome.status != KEPT:
        say(
            f"{outcome.name}: val accuracy {100 * acc:.2f}% (best epoch {metrics['best_epoch']}), "
            f"{metrics['train_time_s']:.0f} s"
        )


def _export_all(run: ZooRun, outcomes: list[ModelOutcome]) -> None:
    registry, bar, say, data_dir = Registry(run.registry_dir), run.bar, run.say, run.data_dir
    for outcome in outcomes:
        if outcome.status not in OK_STATUSES:
            bar.step(f"export {outcome.name} (skipped)")
            continue
        try:
            key = run_key(outcome.run_dir)
            held = _held_card(registry, outcome.name, key)
            if held is not None:
                outcome.export = "held"
            else:
                held = export_run(outcome.run_dir, registry, name=outcome.name, data_dir=data_dir)
                outcome.export = "exported"
            outcome.ref = held.ref
        except Exception as exc:  # one export's failure must not stop the others
            outcome.export, outcome.export_error = "failed", describe(exc)
            say(f"{outcome.name}: EXPORT FAILED: {outcome.export_error}")
        bar.step(f"exported {outcome.name}")


def _held_card(registry: Registry, name: str, key: tuple[str, str]) -> dict[str, Any] | None:
    """The newest card of `name` made from the same config and weights, if any."""
    found = None
    for card in registry.list(kind="model"):
        source = card.section("source")
        same = (source.get("config_hash"), source.get("model_pt_sha256")) == key
        if card.name == name and same and (found is None or card.version > found.version):
            found = card
    return found


def _ensemble(result: ZooResult, say: Callable[[str], None]) -> None:
    settings = dict(result.spec.ensemble)
    refs = [m.ref for m in result.models if m.ok and m.ref]
    if not settings.pop("enabled"):
        result.ensemble_status = "skipped"
        return
    if len(refs) < 2:
        result.ensemble_status = "skipped"
        say(f"ensemble: skipped, it needs at least 2 models that learned ({len(refs)} did)")
        return
    out = result.runs_dir / ENSEMBLE_DIR
    batch_size, threads = settings.pop("batch_size"), settings.pop("threads")
    estimate_pairs = settings.pop("estimate_pairs")
    params = StackingParams.from_dict(settings)
    registry = Registry(result.registry_dir)
    previous = _same_ensemble(out, registry, refs, params, result.data_dir, estimate_pairs)
    if previous is not None:
        result.ensemble, result.ensemble_status = previous, "kept"
        say("ensemble: already evaluated with these members and settings; kept")
        return
    try:
        wanted = EvalSettings(
            result.data_dir,
            out,
            models=refs,
            params=params,
            name="zoo-ensemble",
            batch_size=batch_size,
            threads=threads,
        )
        calibrate = None
        if estimate_pairs > 0:
            calibrate = card_calibrator(result.data_dir, estimate_pairs, batch_size, threads)
        run = run_ensemble_eval(registry, wanted, calibrate)
    except Exception as exc:  # reported in the summary; the models stay trained and exported
        result.ensemble_status, result.ensemble_error = "failed", describe(exc)
        say(f"ensemble: FAILED: {result.ensemble_error}")
        return
    result.ensemble, result.ensemble_status = run.report, "evaluated"


def _same_ensemble(
    out: Path, registry: Registry, refs, params, data_dir: Path, estimate_pairs: int
) -> dict[str, Any] | None:
    """The report in `out` when it was made from exactly these members, settings and data, and
    its entry's card holds the calibration these settings ask for."""
    report = read_json(out / "report.json", None)
    if not report or "entry" not in report:
        return None
    members = [f"{m['name']}@{m['version']}" for m in report.get("members", [])]
    stacking = {k: v for k, v in report.get("stacking", {}).items() if k != "fold_accuracy"}
    fingerprint = (report.get("data") or {}).get("fingerprint")
    try:
        calibrated = calibrated_as(registry.resolve(report["entry"]), estimate_pairs)
        same_data = fingerprint == data_fingerprint(data_dir)
    except PairzooError:
        return None
    if members == list(refs) and stacking == params.to_dict() and same_data and calibrated:
        return report
    return None
