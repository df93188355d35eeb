"""Run a zoo: train every model (skipping finished runs, resuming interrupted ones), export the
models that learned into the registry, and fit and evaluate the stacking ensemble.

A model that fails is recorded with its error and the others go on; nothing here exits.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pairzoo.errors import PairzooError
from pairzoo.zoo.spec import ModelSpec, ZooSpec

ENSEMBLE_DIR = "ensemble"
# Statuses of a model after training: ok ones are exported and join the ensemble.
TRAINED, RESUMED, KEPT = "trained", "resumed", "kept"
FAILED, NO_LEARN = "failed", "failed to learn"
OK_STATUSES = (TRAINED, RESUMED, KEPT)


@dataclass
class ModelOutcome:
    name: str
    stage: int
    description: str
    run_dir: Path
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

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.models) and self.ensemble_status != "failed"


class Progress:
    """One overall bar and one per model (the trainer draws its own per-epoch bar)."""

    def __init__(self, total: int, enabled: bool):
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self.enabled = enabled
        self.overall = tqdm(
            total=total, desc="zoo", position=0, disable=not enabled, unit="step", file=sys.stderr
        )
        self.model_bar = None

    def start_model(self, name: str, epochs: int, done: int) -> None:
        self.model_bar = self._tqdm(
            total=epochs,
            initial=done,
            desc=name,
            position=1,
            leave=False,
            disable=not self.enabled,
            unit="epoch",
            file=sys.stderr,
        )

    def epoch(self, row: dict[str, Any]) -> None:
        if self.model_bar is not None:
            self.model_bar.update(1)
            self.model_bar.set_postfix(val=f"{row['val_accuracy']:.3f}")

    def end_model(self) -> None:
        if self.model_bar is not None:
            self.model_bar.close()
            self.model_bar = None

    def step(self, desc: str) -> None:
        self.overall.set_description(desc)
        self.overall.update(1)

    def write(self, message: str) -> None:
        self._tqdm.write(message, file=sys.stderr)

    def close(self) -> None:
        self.end_model()
        self.overall.close()


def run_zoo(
    spec: ZooSpec,
    data_dir: str | Path,
    runs_dir: str | Path,
    registry_dir: str | Path,
    force: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> ZooResult:
    """Train, export and ensemble `spec`'s models; returns what happened to each.

    Finished runs whose config hashes the same are kept (``force`` retrains them); an
    unfinished one is resumed. Raises only for problems common to every model (such as a data
    directory that cannot be read); a model's own failure is recorded in its outcome.
    """
    start = time.perf_counter()
    data_dir, runs_dir, registry_dir = Path(data_dir), Path(runs_dir), Path(registry_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [
        ModelOutcome(m.name, m.stage, m.description, runs_dir / m.name) for m in spec.models
    ]
    result = ZooResult(spec, data_dir, runs_dir, registry_dir, outcomes)
    bar = Progress(total=2 * len(outcomes) + 1, enabled=progress)
    say = echo or bar.write
    try:
        t = time.perf_counter()
        for model, outcome in zip(spec.models, outcomes, strict=True):
            _train_one(model, outcome, data_dir, force, spec, bar, say)
            bar.step(f"trained {model.name}")
        result.phases_s["train"] = time.perf_counter() - t
        t = time.perf_counter()
        _export_all(outcomes, data_dir, registry_dir, bar, say)
        result.phases_s["export"] = time.perf_counter() - t
        t = time.perf_counter()
        _ensemble(result, say)
        bar.step("ensemble")
        result.phases_s["ensemble"] = time.perf_counter() - t
    finally:
        bar.close()
    result.wall_s = time.perf_counter() - start
    return result


def _train_one(
    model: ModelSpec,
    outcome: ModelOutcome,
    data_dir: Path,
    force: bool,
    spec: ZooSpec,
    bar: Progress,
    say: Callable[[str], None],
) -> None:
    from pairzoo.train import train_run

    config = {**model.config, "data": str(data_dir)}
    out = outcome.run_dir
    start = time.perf_counter()
    try:
        state = _run_state(config, out, force)
        if state == "stale":
            say(f"{model.name}: settings changed since the last run; training it again")
        if state in ("stale", "force"):
            shutil.rmtree(out)
        outcome.status = {"finished": KEPT, "partial": RESUMED}.get(state, TRAINED)
        if state == "finished":
            say(f"{model.name}: already trained with these settings; kept")
        bar.start_model(model.name, config["train"].get("epochs", 1), _epochs_done(out))
        metrics = train_run(config, out, resume=True, progress=bar.enabled, on_epoch=bar.epoch)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # one model's failure, whatever it is, must not stop the zoo
        outcome.status, outcome.error = FAILED, _describe(exc)
        say(f"{model.name}: FAILED: {outcome.error}")
        return
    finally:
        bar.end_model()
        outcome.wall_s = time.perf_counter() - start
    outcome.metrics = metrics
    outcome.history = _read_json(out / "history.json", [])
    floor = spec.settings["min_val_accuracy"]
    acc = metrics["val"]["accuracy"]
    if acc <= floor:
        outcome.status = NO_LEARN
        outcome.error = f"val accuracy {100 * acc:.2f}% is at or below {100 * floor:.0f}%"
        say(f"{model.name}: FAILED TO LEARN: {outcome.error}")


def _run_state(config: dict[str, Any], out: Path, force: bool) -> str:
    """new | finished | partial (resume it) | stale (other settings) | force (retrain)."""
    if not out.exists() or not any(out.iterdir()):
        return "new"
    if force:
        return "force"
    from pairzoo.train.config import config_hash
    from pairzoo.train.resolve import resolve_config

    saved = _read_json(out / "config.json", None)
    if saved is None:
        return "stale"
    if config_hash(saved) != config_hash(resolve_config(config, out)):
        return "stale"
    metrics = _read_json(out / "metrics.json", {})
    return "finished" if metrics.get("finished") else "partial"


def _epochs_done(out: Path) -> int:
    return len(_read_json(out / "history.json", []))


def _export_all(
    outcomes: list[ModelOutcome],
    data_dir: Path,
    registry_dir: Path,
    bar: Progress,
    say: Callable[[str], None],
) -> None:
    from pairzoo.exporting.run_export import export_run, run_key
    from pairzoo.registry import Registry

    registry = Registry(registry_dir)
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
            outcome.ref = f"{held['name']}@{held['version']}"
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            outcome.export, outcome.export_error = "failed", _describe(exc)
            say(f"{outcome.name}: EXPORT FAILED: {outcome.export_error}")
        bar.step(f"exported {outcome.name}")


def _held_card(registry, name: str, key: tuple[str, str]) -> dict[str, Any] | None:
    """The newest card of `name` made from the same config and weights, if any."""
    found = None
    for card in registry.list(kind="model"):
        source = card.get("source") or {}
        same = (source.get("config_hash"), source.get("model_pt_sha256")) == key
        if card["name"] == name and same and (found is None or card["version"] > found["version"]):
            found = card
    return found


def _ensemble(result: ZooResult, say: Callable[[str], None]) -> None:
    from pairzoo.ensemble.pipeline import run_ensemble_eval
    from pairzoo.ensemble.stacking import StackingParams
    from pairzoo.registry import Registry

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
    params = StackingParams.from_dict(settings)
    registry = Registry(result.registry_dir)
    previous = _same_ensemble(out, registry, refs, params, result.data_dir)
    if previous is not None:
        result.ensemble, result.ensemble_status = previous, "kept"
        say("ensemble: already evaluated with these members and settings; kept")
        return
    try:
        run = run_ensemble_eval(
            registry,
            result.data_dir,
            out,
            models=refs,
            params=params,
            name="zoo-ensemble",
            batch_size=batch_size,
            threads=threads,
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        result.ensemble_status, result.ensemble_error = "failed", _describe(exc)
        say(f"ensemble: FAILED: {result.ensemble_error}")
        return
    result.ensemble, result.ensemble_status = run.report, "evaluated"


def _same_ensemble(out: Path, registry, refs, params, data_dir: Path) -> dict[str, Any] | None:
    """The report in `out` when it was made from exactly these members, settings and data."""
    from pairzoo.data.meta import data_fingerprint

    report = _read_json(out / "report.json", None)
    if not report or "entry" not in report:
        return None
    members = [f"{m['name']}@{m['version']}" for m in report.get("members", [])]
    stacking = {k: v for k, v in report.get("stacking", {}).items() if k != "fold_accuracy"}
    fingerprint = (report.get("data") or {}).get("fingerprint")
    try:
        registry.resolve(report["entry"])
        same_data = fingerprint == data_fingerprint(data_dir)
    except PairzooError:
        return None
    if members == list(refs) and stacking == params.to_dict() and same_data:
        return report
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PairzooError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
