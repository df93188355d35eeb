"""`pairzoo distill` as a library call: teacher logits, training, registration, report.

Order matters for the user's time: the config, the ensemble and the data are checked before the
teacher's logits are computed (minutes on real data), and those are saved before training, so a
resumed run neither recomputes them nor trains on other ones.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.atomic import write_json
from pairzoo.data.format import load_data_dir
from pairzoo.distill.compat import check_data
from pairzoo.distill.publish import register_student
from pairzoo.distill.report import build_report
from pairzoo.distill.teacher import (
    LOGITS_FILE,
    RECORD_FILE,
    load_teacher,
    proba_to_logit,
    save_teacher,
    teacher_proba,
)
from pairzoo.ensemble.members import Member, load_ensemble, load_member
from pairzoo.errors import ConfigError, PluginError, RunError
from pairzoo.exporting.onnx_export import export_onnx
from pairzoo.plugins import build_architecture, build_loss, catalog
from pairzoo.registry import Registry
from pairzoo.registry.card import ref_of, sha256_file
from pairzoo.runtime.sessions import open_session
from pairzoo.train import train_run
from pairzoo.train.config import merge
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runconfig import RunConfig
from pairzoo.train.rundir import load_run
from pairzoo.train.session import train_subset

REPORT_FILE = "distill_report.json"
_FROM_BASE_DROPPED = ("name", "data_fingerprint", "provenance")


@dataclass(frozen=True)
class DistillRun:
    """One distillation as its steps share it, built once by `distill`."""

    config: RunConfig  # resolved: the student's run config
    out: Path
    registry: Registry
    ensemble: Any  # the teacher, a loaded ensemble (pairzoo.ensemble.members)
    threads: int  # for the teacher's and the report's inference
    resume: bool
    progress: bool
    log: Callable[[str], None]


@dataclass
class DistillResult:
    out: Path
    metrics: dict[str, Any]  # the trainer's metrics.json
    teacher: dict[str, Any]  # teacher.json
    teacher_reused: bool
    card: dict[str, Any] | None  # the student's registry card
    registered_now: bool
    report: dict[str, Any]


def distill_config(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` (a TOML file or a run's config.json) with `overrides`, and a loss that learns
    from a teacher: the base's own if it does (its `needs_teacher`), else `teacher_loss()`.

    A base made for another loss (or architecture) gives up its loss (architecture) parameters;
    its name and recorded outputs (fingerprint, provenance) are dropped: they describe another run.
    """
    base = {k: v for k, v in base.items() if k not in _FROM_BASE_DROPPED}
    loss = teacher_loss(base.get("loss"))
    if base.get("loss", loss) != loss:
        base.pop("loss_params", None)
    if overrides.get("arch", base.get("arch")) != base.get("arch"):
        base.pop("arch_params", None)
    return merge(base, {**overrides, "loss": loss})


def teacher_loss(preferred: str | None = None) -> str:
    """`preferred` if it names a registered loss that learns from a teacher's logits, else the
    first such loss registered (the builtin `distill`); PluginError when none is."""
    losses = catalog().losses
    names = [n for n, item in losses.items() if getattr(item.obj, "needs_teacher", False)]
    if preferred in names:
        return preferred
    if not names:
        raise PluginError(
            "no registered loss learns from a teacher (none sets needs_teacher = True), so "
            f"there is nothing to distill with (losses: {', '.join(sorted(losses)) or 'none'})"
        )
    return names[0]


@dataclass(frozen=True)
class DistillSettings:
    config: dict[str, Any]  # the student's run config (its loss is set by distill_config)
    out: str | Path  # the run directory
    ensemble: str  # the teacher, a registry ensemble entry NAME[@VERSION]
    resume: bool = False
    register: bool = True  # export the student behind the parity gate and register it
    progress: bool = True


def distill(
    registry: Registry,
    settings: DistillSettings,
    log: Callable[[str], None] = lambda message: None,
) -> DistillResult:
    """Train `settings.config` on ensemble `settings.ensemble`'s logits into `settings.out`.

    Raises ConfigError, PluginError, DataError, RegistryError, RunError or ExportError, each
    before any long work where it can be known then.
    """
    config, resume, progress = settings.config, settings.resume, settings.progress
    out = Path(settings.out)
    cfg = RunConfig.from_dict(resolve_config(config, out))  # unknown plugin names: refused here
    build_architecture(cfg.model.arch, cfg.model.params)  # and bad values, before the teacher
    build_loss(cfg.loss.name, cfg.loss.params)
    _check_out(out, resume)
    reg = registry
    reg.check_catalogue()
    # members run side by side, one thread each
    loaded = load_ensemble(reg, settings.ensemble, threads=1)
    run = DistillRun(cfg, out, reg, loaded, _threads(cfg), resume, progress, log)
    train = load_data_dir(cfg.data.path, "train")
    rule = check_data(loaded, tuple(train.x.shape[1:]), cfg.data.rule, cfg.data.path)
    logits, record, reused = _teacher(run, train.x, rule)
    del train
    # The run directory already holds the teacher files, so training always goes through the
    # trainer's resume path; a fresh run was checked to have an empty --out above.
    metrics = train_run(config, out, resume=True, progress=progress, teacher_logits=logits)
    card, registered_now = None, False
    if settings.register:
        log(f"exporting {out} to ONNX and registering it in {reg.root}")
        card, registered_now = register_student(reg, out, _card_teacher(record, cfg), cfg.name)
    report = _report(run, metrics, card, record)
    return DistillResult(out, metrics, record, reused, card, registered_now, report)


def _check_out(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, expected a run directory")
    if not resume and out.exists() and any(out.iterdir()):
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )


def _threads(cfg: RunConfig) -> int:
    threads = cfg.train.threads
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _teacher(run: DistillRun, x: np.ndarray, rule: str) -> tuple[np.ndarray, dict, bool]:
    """The saved logits on resume (checked), else the ensemble's, computed and saved now.

    Only the pairs the run trains on (its --subset) are given to the ensemble; the other
    entries of the saved array are 0 and never read.
    """
    out, cfg, loaded, threads = run.out, run.config, run.ensemble, run.threads
    indices = train_subset(cfg, len(x))
    subset = None if indices is None else _subset_facts(cfg)
    if run.resume and (out / RECORD_FILE).exists():
        return (*_saved_teacher(run, len(x), subset), True)
    if run.resume and ((out / "last.pt").exists() or (out / "config.json").exists()):
        raise RunError(
            f"{out} holds a run without {RECORD_FILE}: it was not trained by `pairzoo distill`, "
            "so there is no teacher to resume with"
        )
    ref = ref_of(loaded.card)
    pairs = x if indices is None else x[indices]
    run.log(
        f"teacher: {ref} ({len(loaded.members)} members) on {len(pairs)} of {len(x)} train "
        f"pairs, {threads} at a time"
    )
    proba, seconds = teacher_proba(
        loaded, pairs, workers=threads, threads=threads, progress=run.progress
    )
    logits = np.zeros(len(x), np.float32)
    logits[slice(None) if indices is None else indices] = proba_to_logit(proba)
    record = save_teacher(
        out,
        logits,
        loaded.card,
        members=[m.ref for m in loaded.members],
        rule=rule,
        data=str(cfg.data.path),
        data_fingerprint=cfg.data.fingerprint,
        seconds=round(seconds, 3),
        computed=len(pairs),
        subset=subset,
    )
    run.log(f"teacher: {len(pairs)} logits in {seconds:.1f} s, saved to {out / LOGITS_FILE}")
    return logits, record, False


def _saved_teacher(run: DistillRun, n: int, subset: dict | None) -> tuple[np.ndarray, dict]:
    out = run.out
    logits, record = load_teacher(out, run.ensemble.card, n, run.config.data.fingerprint)
    if record.get("subset") != subset:
        raise RunError(
            f"{out / RECORD_FILE}: the teacher was computed for train subset "
            f"{record.get('subset')}, this run trains on {subset}; resume with the same "
            "--subset, --subset-mode and --seed, or choose another --out"
        )
    run.log(f"teacher: reusing {out / LOGITS_FILE} ({record['ensemble']}, sha256 checked)")
    return logits, record


def _subset_facts(cfg: RunConfig) -> dict[str, Any]:
    return {"size": cfg.train.subset, "mode": cfg.train.subset_mode, "seed": cfg.seed}


def _card_teacher(record: dict[str, Any], cfg: RunConfig) -> dict[str, Any]:
    keep = ("ensemble", "card_sha256", "members", "n", "sha256", "clip_eps", "data_fingerprint")
    return {
        **{k: record.get(k) for k in keep},
        "logits_file": LOGITS_FILE,
        "loss": cfg.loss.name,
        "loss_params": cfg.loss.params,
    }


def _report(run: DistillRun, metrics: dict, card: dict | None, record: dict) -> dict[str, Any]:
    cfg, out, threads = run.config, run.out, run.threads
    run.log("evaluating student, ensemble and members on val and test_public through onnxruntime")
    val = load_data_dir(cfg.data.path, "val")
    splits = {"val": (val.x, val.y)}
    if (Path(cfg.data.path) / "test_public.npz").exists():
        test = load_data_dir(cfg.data.path, "test_public")
        if test.y is not None:
            splits["test_public"] = (test.x, test.y)
    info = {
        "run": str(out),
        "arch": cfg.model.arch,
        "arch_params": cfg.model.params,
        "loss_params": cfg.loss.params,
        "params": metrics.get("params"),
        "train_time_s": metrics.get("train_time_s"),
        "torch_val_accuracy": (metrics.get("val") or {}).get("accuracy"),
    }
    with tempfile.TemporaryDirectory(prefix="pairzoo-distill-") as tmp:
        student = _student_member(run.registry, card, out, metrics, threads, Path(tmp))
        start = time.perf_counter()
        report = build_report(run.ensemble, student, splits, threads, student_info=info)
    report["teacher"] = record
    report["seconds"] = round(time.perf_counter() - start, 3)
    write_json(out / REPORT_FILE, report)
    return report


def _student_member(reg: Registry, card, out: Path, metrics: dict, threads: int, tmp: Path):
    """The registered student (hash-checked), else the run exported to a temporary ONNX file."""
    if card is not None:
        return load_member(reg, ref_of(card), threads)

    path = tmp / "student.onnx"
    export_onnx(load_run(out).model, path)
    return Member(
        name=out.name,
        version=None,
        sha256=sha256_file(path),
        session=open_session(str(path), threads),
        macs_per_pair=metrics.get("macs_per_pair"),
    )
