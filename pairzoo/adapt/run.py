"""`pairzoo adapt` as a library call: rounds of pseudo-labelling and fine-tuning, the val guard,
then registration of the adapted members and ensemble with their lineage.

Everything up to registration happens in the work directory (OUT/NAME-KEY/): a kill there leaves
the registry untouched, and a rerun keeps every member run already finished. The key hashes the
parent ensemble's card, the unlabelled files, the labelled data and the settings, so the same
command finds its own work again and another one never mixes with it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.adapt.checks import label_agreement, round_checks, swap_agreement, val_accuracy_oof
from pairzoo.adapt.finetune import FinetuneData, antisymmetric, finetune, predict, save_run
from pairzoo.adapt.inputs import (
    adaptation_key,
    labelled_data,
    read_json,
    request_hash,
    score_file,
    swap_rule,
)
from pairzoo.adapt.lineage import SECTION, adapted_cards
from pairzoo.adapt.matched import generated_pairs, match_severity
from pairzoo.adapt.members import source_members
from pairzoo.adapt.pseudo import select_pseudo_labels
from pairzoo.adapt.publish import lineage_section, publish
from pairzoo.adapt.registered import ensemble_estimate, entry_figures
from pairzoo.adapt.settings import AdaptJob, AdaptSettings, FinetuneSettings
from pairzoo.adapt.targets import load_targets
from pairzoo.atomic import write_json
from pairzoo.ensemble.members import META_LEARNER, load_ensemble_card
from pairzoo.ensemble.stacking import LGBMStacker, StackingParams, predict_booster
from pairzoo.errors import DataError
from pairzoo.estimate.shifts import DEFAULT_PAIRS
from pairzoo.metrics import accuracy
from pairzoo.profiling import count_macs, count_params
from pairzoo.registry import Registry
from pairzoo.registry.card import ref_of
from pairzoo.train.config import config_hash
from pairzoo.train.device import cpu_threads
from pairzoo.train.metrics import binary_metrics
from pairzoo.train.rundir import load_run

__all__ = ["AdaptJob", "AdaptResult", "AdaptSettings", "adapt"]

REPORT_FILE = "report.json"
MAX_VAL_DROP = 0.01  # labelled val accuracy may fall by at most one point


@dataclass
class AdaptResult:
    work: Path
    report: dict[str, Any]
    card: dict[str, Any] | None  # the adapted ensemble's, once registered
    registered_now: bool
    refused: str | None = None


@dataclass
class _Round:
    models: list  # torch modules, eval mode
    val: np.ndarray  # (N_val, members) logits
    target: np.ndarray
    target_swapped: np.ndarray
    score: list[np.ndarray]  # logits on each --score file
    proba: np.ndarray  # ensemble probability on the target pairs
    proba_swapped: np.ndarray
    checks: dict[str, Any]


def adapt(
    registry: Registry, job: AdaptJob, log: Callable[[str], None] = lambda message: None
) -> AdaptResult:
    """Adapt ensemble `job.ensemble` (default: the latest) to the pairs of `job.unlabelled`.

    Raises DataError, RegistryError, ConfigError or RunError, each before the long work where it
    can be known then. A result with `refused` set registered nothing.
    """
    import torch

    settings = job.settings
    registry.check_catalogue()
    parent = load_ensemble_card(registry, job.ensemble)
    targets = load_targets(list(job.unlabelled))
    labelled = labelled_data(job.data_dir)
    request = request_hash(targets.files, labelled["fingerprint"], settings.to_dict())
    own = parent.get(SECTION) or {}
    if job.ensemble is None and own.get("request") == request:
        # The latest ensemble is this very adaptation's result: the command ran before.
        log(f"already adapted: {ref_of(parent)} (same files, data and settings)")
        work = Path(job.out_root) / f"{own['parent'].split('@')[0]}-{own['key'][:12]}"
        return AdaptResult(work, read_json(work / REPORT_FILE), parent, False)
    sources = source_members(registry, parent)
    scored = [score_file(path) for path in job.score]
    key = adaptation_key(parent, request)
    work = Path(job.out_root) / f"{parent['name']}-{key[:12]}"
    work.mkdir(parents=True, exist_ok=True)
    with cpu_threads(job.threads):
        log(f"adapting {ref_of(parent)} ({len(sources)} members) to {len(targets)} pairs, "
            f"{torch.get_num_threads()} threads; work in {work}")  # fmt: skip
        context = _Context(
            registry=registry,
            parent=parent,
            sources=sources,
            targets=targets,
            labelled=labelled,
            scored=scored,
            settings=settings,
            key=key,
            request=request,
            work=work,
            log=log,
        )
        return context.run()


@dataclass(eq=False)
class _Context:
    """One adaptation as its rounds and its registration share it (pairzoo.adapt.publish)."""

    registry: Registry
    parent: dict[str, Any]  # the ensemble's card
    sources: list  # pairzoo.adapt.members: the parent's members and their runs
    targets: Any  # pairzoo.adapt.targets: the unlabelled pairs
    labelled: dict[str, Any]  # pairzoo.adapt.inputs.labelled_data
    scored: list  # the --score splits
    settings: AdaptSettings
    key: str
    request: str
    work: Path
    log: Callable[[str], None]
    params: Any = field(init=False)  # the parent's StackingParams
    on_swap: str = field(init=False)

    def __post_init__(self) -> None:
        self.params = StackingParams.from_dict(self.parent.get("stacking") or {})
        self.on_swap = swap_rule(self.sources, self.labelled["rule"])

    def run(self) -> AdaptResult:
        start = time.perf_counter()
        held = adapted_cards(self.registry, self.key, "ensemble")
        if held:
            report = read_json(self.work / REPORT_FILE)
            self.log(f"already adapted: {ref_of(held[-1])} (same ensemble, files, data, settings)")
            return AdaptResult(self.work, report, held[-1], False)
        self.match, self.generated = self._generated()
        parent = self._entry_figures(ref_of(self.parent))
        rounds = [self._parent_round()]
        self._log_round(0, rounds[0])
        for r in range(1, self.settings.rounds + 1):
            rounds.append(self._adapt_round(r, rounds[-1]))
            self._log_round(r, rounds[-1])
        report = self._report(rounds, time.perf_counter() - start)
        report["parent_entry"] = parent
        before, after = rounds[0].checks["val_accuracy"], rounds[-1].checks["val_accuracy"]
        if after < before - MAX_VAL_DROP:
            reason = (
                f"labelled val accuracy would fall from {100 * before:.2f}% to "
                f"{100 * after:.2f}% (more than {100 * MAX_VAL_DROP:.0f} point); nothing registered"
            )
            report["refused"] = reason
            _write_report(self.work, report)
            return AdaptResult(self.work, report, None, False, refused=reason)
        _write_report(self.work, report)
        card = publish(self, report)
        report["entry"] = ref_of(card)
        report["registered"] = self._entry_figures(ref_of(card))
        _write_report(self.work, report)
        return AdaptResult(self.work, report, card, True)

    def _entry_figures(self, ref: str) -> dict[str, Any]:
        pairs = (self.parent.get("estimate") or {}).get("generator", {}).get("pairs")
        figures = entry_figures(
            self.registry, ref, self.targets, self.scored, pairs or DEFAULT_PAIRS
        )
        for name, rows in figures["estimate"].items():
            row = ensemble_estimate(rows)
            self.log(f"{ref} on {name}: estimated accuracy {100 * row['accuracy']:.2f}% "
                     f"({100 * row['low']:.2f}-{100 * row['high']:.2f}%, {row['method']})")  # fmt: skip
        for path, acc in figures["score_accuracy"].items():
            self.log(f"{ref} on {Path(path).name}: accuracy {100 * acc:.2f}% (as predict runs it)")
        return figures

    # ---- rounds --------------------------------------------------------------------------

    def _generated(self):
        """The severity matched to the target (kept in the work directory for a rerun) and the
        labelled pairs made there; (None, None) without --generated."""
        n = self.settings.generated
        if not n:
            return None, None
        path = self.work / "match.json"
        match = read_json(path)
        if "severity" not in match:
            self.log(f"matching the generator's severity to the {len(self.targets)} target pairs")
            match = match_severity(self.targets.x, self.settings.finetune.seed).to_dict()
            write_json(path, match)
        tried = ", ".join(f"{s} {100 * a:.1f}%" for s, a in match["two_sample_accuracy"].items())
        self.log(f"severity {match['severity']:g} passes best for the target (two-sample "
                 f"accuracy by severity: {tried}); {n} labelled pairs made there")  # fmt: skip
        seed = self.settings.finetune.seed
        pairs = generated_pairs(
            self.work / "generated", match["severity"], n, seed, self.labelled["rule"]
        )
        return match, pairs

    def _parent_round(self) -> _Round:
        """Round 0: the parent's own members (from their runs) and its registered meta-learner."""
        import lightgbm as lgb

        models = [load_run(s.run_dir).model for s in self.sources]
        text = self.registry.read_file(self.parent, self.parent.get("meta_learner", META_LEARNER))
        booster = lgb.Booster(model_str=text.decode())
        return self._evaluate(models, None, booster=booster)

    def _adapt_round(self, r: int, previous: _Round) -> _Round:
        pseudo = select_pseudo_labels(previous.proba, self.settings.threshold)
        facts = pseudo.facts(len(self.targets), self.settings.threshold)
        self.log(f"round {r}: {facts['pseudo_labelled']} pseudo-labels of {len(self.targets)} "
                 f"pairs ({facts['confident']} confident at {self.settings.threshold})")  # fmt: skip
        if len(pseudo.index) == 0 and self.generated is None:
            raise DataError(
                f"round {r}: no target pair reaches confidence {self.settings.threshold}; "
                "lower --threshold"
            )
        models = [
            self._member(r, i, s, previous.models[i], pseudo, facts)
            for i, s in enumerate(self.sources)
        ]
        return self._evaluate(models, previous, pseudo=facts)

    def _member(self, r: int, i: int, source, start_model, pseudo, facts):
        """The member fine-tuned in round `r`, from its run when that finished with this config."""
        run_dir = self.work / f"round{r}" / source.card.name
        config = self._config(r, source, facts)
        done = read_json(run_dir / "metrics.json")
        if done.get("finished") and done.get("config_hash") == config_hash(config):
            self.log(f"  {source.card.name}: kept {run_dir}")
            return load_run(run_dir).model
        model = copy.deepcopy(start_model)
        seed = self.settings.finetune.seed + 1000 * r + i
        ft = FinetuneSettings(**{**self.settings.finetune.to_dict(), "seed": seed})
        data = FinetuneData(
            self.labelled["train"], self.targets.x, pseudo.index, pseudo.label, self.generated
        )
        info = finetune(model, config, data, ft, self.on_swap)
        metrics = self._metrics(model, config, info)
        save_run(run_dir, model, config, metrics)
        self.log(f"  {source.card.name}: val {100 * metrics['val']['accuracy']:.2f}% "
                 f"({info['steps']} steps, {info['seconds']:.0f} s)")  # fmt: skip
        return model

    def _config(self, r: int, source, facts: dict) -> dict[str, Any]:
        config = dict(source.card.section("config"))
        config["name"] = source.card.name
        config[SECTION] = {**lineage_section(self, r, facts), "parent_member": source.ref}
        return config

    def _metrics(self, model, config: dict, info: dict) -> dict[str, Any]:
        val = self.labelled["val"]
        test = self.labelled["test"]
        return {
            "finished": True,
            "name": config["name"],
            "best_epoch": 1,
            "epochs_run": 1,
            "val": binary_metrics(val.y, predict(model, val.x)),
            "test_public": None if test is None else binary_metrics(test.y, predict(model, test.x)),
            "train_time_s": info["seconds"],
            "adapt": info,
            "params": count_params(model),
            "macs_per_pair": int(count_macs(copy.deepcopy(model).eval())),
            "config_hash": config_hash(config),
        }

    def _evaluate(self, models, previous: _Round | None, booster=None, pseudo=None) -> _Round:
        """Member logits on val, target (and swapped) and --score; the round's ensemble on them."""
        val_y = self.labelled["val"].y
        val = _logits(models, self.labelled["val"].x)
        target = _logits(models, self.targets.x)
        swapped = _logits(models, _swap(self.targets.x), same_as=target)
        # a --score file of the target pairs themselves (transductive) reuses their logits
        score = [
            target if np.array_equal(split.x, self.targets.x) else _logits(models, split.x)
            for split in self.scored
        ]
        if booster is None:
            stacker = LGBMStacker(self.params).fit(val, val_y)
            booster = stacker.booster

        def proba(logits):
            return predict_booster(booster, logits, self.params.num_threads)

        p, p_swapped = proba(target), proba(swapped)
        checks = round_checks(
            val_accuracy=val_accuracy_oof(val, val_y, self.params),
            confident_share=round(float((np.maximum(p, 1 - p) >= self.settings.threshold).mean()), 4),
            predicted_1_share=round(float((p >= 0.5).mean()), 4),
            agreement_with_previous_round=label_agreement(
                None if previous is None else previous.proba, p
            ),
            swap_consistency=swap_agreement(p, p_swapped, self.on_swap),
            score_accuracy={
                str(split.path): round(accuracy(split.y, proba(logits)), 6)
                for split, logits in zip(self.scored, score, strict=True)
            } or None,
            pseudo=pseudo,
        )  # fmt: skip
        return _Round(models, val, target, swapped, score, p, p_swapped, checks)

    def _log_round(self, r: int, rnd: _Round) -> None:
        c = rnd.checks
        parts = [f"val {100 * c['val_accuracy']:.2f}% (out of fold)",
                 f"confident {100 * c['confident_share']:.1f}%"]  # fmt: skip
        if "agreement_with_previous_round" in c:
            parts.append(
                f"agreement with round {r - 1} {100 * c['agreement_with_previous_round']:.1f}%"
            )
        if "swap_consistency" in c:
            parts.append(f"swap consistency {100 * c['swap_consistency']:.1f}%")
        for path, acc in (c.get("score_accuracy") or {}).items():
            parts.append(f"{Path(path).name} accuracy {100 * acc:.2f}%")
        self.log(f"round {r}{' (parent)' if r == 0 else ''}: " + ", ".join(parts))

    def _report(self, rounds: list[_Round], seconds: float) -> dict[str, Any]:
        first, last = rounds[0].checks, rounds[-1].checks
        return {
            "parent": ref_of(self.parent),
            "key": self.key,
            "unlabelled": self.targets.files,
            "data": str(self.labelled["dir"]),
            "settings": self.settings.to_dict(),
            "members": [s.ref for s in self.sources],
            "rounds": [r.checks for r in rounds],
            "val_accuracy": {"before": first["val_accuracy"], "after": last["val_accuracy"]},
            "score": [{
                "file": str(split.path),
                "note": "reported only; never used for any choice",
                "before": first["score_accuracy"][str(split.path)],
                "after": last["score_accuracy"][str(split.path)],
            } for split in self.scored],
            **({"match": self.match} if self.match else {}),
            "seconds": round(seconds, 1),
        }  # fmt: skip


def _logits(models, x: np.ndarray, same_as: np.ndarray | None = None) -> np.ndarray:
    """(N, members) float32 logits; an antisymmetric member's swapped logits are -`same_as`'s."""
    out = np.empty((len(x), len(models)), np.float32)
    for j, model in enumerate(models):
        if same_as is not None and antisymmetric(model):
            out[:, j] = -same_as[:, j]
        else:
            out[:, j] = predict(model, x)
    return out


def _swap(x: np.ndarray) -> np.ndarray:
    half = x.shape[2] // 2
    return np.ascontiguousarray(np.concatenate([x[:, :, half:], x[:, :, :half]], axis=2))


def _write_report(work: Path, report: dict) -> None:
    write_json(work / REPORT_FILE, report)
