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

from pairzoo.distill.teacher import LOGITS_FILE, RECORD_FILE, entry_ref
from pairzoo.errors import ConfigError, RunError

REPORT_FILE = "distill_report.json"
LOSS = "distill"
_FROM_BASE_DROPPED = ("name", "data_fingerprint", "provenance")


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
    """`base` (a TOML file or a run's config.json) with `overrides`, and the distill loss.

    A base made for another loss (or architecture) gives up its loss (architecture) parameters;
    its name and recorded outputs (fingerprint, provenance) are dropped: they describe another run.
    """
    from pairzoo.train.config import merge

    base = {k: v for k, v in base.items() if k not in _FROM_BASE_DROPPED}
    if base.get("loss", LOSS) != LOSS:
        base.pop("loss_params", None)
    if overrides.get("arch", base.get("arch")) != base.get("arch"):
        base.pop("arch_params", None)
    return merge(base, {**overrides, "loss": LOSS})


def distill(
    config: dict[str, Any],
    out: str | Path,
    ensemble: str,
    registry: Any = None,
    resume: bool = False,
    register: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> DistillResult:
    """Train `config` (its loss set to distill) on ensemble `ensemble`'s logits into `out`.

    Raises ConfigError, PluginError, DataError, RegistryError, RunError or ExportError, each
    before any long work where it can be known then.
    """
    from pairzoo.data.format import load_data_dir
    from pairzoo.distill.compat import check_data
    from pairzoo.ensemble.members import load_ensemble
    from pairzoo.plugins import build_architecture, build_loss
    from pairzoo.registry import Registry
    from pairzoo.train import train_run
    from pairzoo.train.resolve import resolve_config

    out = Path(out)
    cfg = resolve_config(config, out)  # unknown architecture or parameter: refused here
    build_architecture(cfg["arch"], cfg["arch_params"])  # and bad values, before the teacher
    build_loss(cfg["loss"], cfg["loss_params"])
    _check_out(out, resume)
    threads = _threads(cfg)
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    reg.check_catalogue()
    loaded = load_ensemble(reg, ensemble, threads=1)  # members run side by side, one thread each
    train = load_data_dir(cfg["data"], "train")
    rule = check_data(loaded, tuple(train.x.shape[1:]), cfg["rule"], cfg["data"])
    logits, record, reused = _teacher(
        out, loaded, train.x, cfg, threads, resume, rule, log, progress
    )
    del train
    # The run directory already holds the teacher files, so training always goes through the
    # trainer's resume path; a fresh run was checked to have an empty --out above.
    metrics = train_run(config, out, resume=True, progress=progress, teacher_logits=logits)
    card, registered_now = None, False
    if register:
        from pairzoo.distill.publish import register_student

        log(f"exporting {out} to ONNX and registering it in {reg.root}")
        card, registered_now = register_student(reg, out, _card_teacher(record, cfg), cfg["name"])
    report = _report(reg, loaded, out, cfg, metrics, card, record, threads, log)
    return DistillResult(out, metrics, record, reused, card, registered_now, report)


def _check_out(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, expected a run directory")
    if not resume and out.exists() and any(out.iterdir()):
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )


def _threads(cfg: dict[str, Any]) -> int:
    threads = cfg["train"]["threads"]
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _teacher(
    out, loaded, x, cfg, threads, resume, rule, log, progress
) -> tuple[np.ndarray, dict, bool]:
    """The saved logits on resume (checked), else the ensemble's, computed and saved now.

    Only the pairs the run trains on (its --subset) are given to the ensemble; the other
    entries of the saved array are 0 and never read.
    """
    from pairzoo.distill.teacher import load_teacher, proba_to_logit, save_teacher, teacher_proba
    from pairzoo.train.session import train_subset

    indices = train_subset(cfg, len(x))
    subset = None if indices is None else _subset_facts(cfg)
    if resume and (out / RECORD_FILE).exists():
        logits, record = load_teacher(out, loaded.card, len(x), cfg["data_fingerprint"])
        if record.get("subset") != subset:
            raise RunError(
                f"{out / RECORD_FILE}: the teacher was computed for train subset "
                f"{record.get('subset')}, this run trains on {subset}; resume with the same "
                "--subset, --subset-mode and --seed, or choose another --out"
            )
        log(f"teacher: reusing {out / LOGITS_FILE} ({record['ensemble']}, sha256 checked)")
        return logits, record, True
    if resume and ((out / "last.pt").exists() or (out / "config.json").exists()):
        raise RunError(
            f"{out} holds a run without {RECORD_FILE}: it was not trained by `pairzoo distill`, "
            "so there is no teacher to resume with"
        )
    ref = entry_ref(loaded.card)
    pairs = x if indices is None else x[indices]
    log(
        f"teacher: {ref} ({len(loaded.members)} members) on {len(pairs)} of {len(x)} train "
        f"pairs, {threads} at a time"
    )
    proba, seconds = teacher_proba(
        loaded, pairs, workers=threads, threads=threads, progress=progress
    )
    logits = np.zeros(len(x), np.float32)
    logits[slice(None) if indices is None else indices] = proba_to_logit(proba)
    record = save_teacher(
        out,
        logits,
        loaded.card,
        members=[m.ref for m in loaded.members],
        rule=rule,
        data=str(cfg["data"]),
        data_fingerprint=cfg["data_fingerprint"],
        seconds=round(seconds, 3),
        computed=len(pairs),
        subset=subset,
    )
    log(f"teacher: {len(pairs)} logits in {seconds:.1f} s, saved to {out / LOGITS_FILE}")
    return logits, record, False


def _subset_facts(cfg: dict[str, Any]) -> dict[str, Any]:
    t = cfg["train"]
    return {"size": t["subset"], "mode": t["subset_mode"], "seed": cfg["seed"]}


def _card_teacher(record: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    keep = ("ensemble", "card_sha256", "members", "n", "sha256", "clip_eps", "data_fingerprint")
    return {
        **{k: record.get(k) for k in keep},
        "logits_file": LOGITS_FILE,
        "loss": LOSS,
        "loss_params": cfg["loss_params"],
    }


def _report(reg, loaded, out, cfg, metrics, card, record, threads, log) -> dict[str, Any]:
    from pairzoo.atomic import write_json
    from pairzoo.data.format import load_data_dir
    from pairzoo.distill.report import build_report

    log("evaluating student, ensemble and members on val and test_public through onnxruntime")
    val = load_data_dir(cfg["data"], "val")
    splits = {"val": (val.x, val.y)}
    if (Path(cfg["data"]) / "test_public.npz").exists():
        test = load_data_dir(cfg["data"], "test_public")
        if test.y is not None:
            splits["test_public"] = (test.x, test.y)
    info = {
        "run": str(out),
        "arch": cfg["arch"],
        "arch_params": cfg["arch_params"],
        "loss_params": cfg["loss_params"],
        "params": metrics.get("params"),
        "train_time_s": metrics.get("train_time_s"),
        "torch_val_accuracy": (metrics.get("val") or {}).get("accuracy"),
    }
    with tempfile.TemporaryDirectory(prefix="pairzoo-distill-") as tmp:
        student = _student_member(reg, card, out, metrics, threads, Path(tmp))
        start = time.perf_counter()
        report = build_report(loaded, student, splits, threads, student_info=info)
    report["teacher"] = record
    report["seconds"] = round(time.perf_counter() - start, 3)
    write_json(out / REPORT_FILE, report)
    return report


def _student_member(reg, card, out: Path, metrics: dict, threads: int, tmp: Path):
    """The registered student (hash-checked), else the run exported to a temporary ONNX file."""
    from pairzoo.ensemble.inference import Member, open_session
    from pairzoo.ensemble.members import load_member

    if card is not None:
        return load_member(reg, entry_ref(card), threads)
    from pairzoo.exporting.onnx_export import export_onnx
    from pairzoo.registry.card import sha256_file
    from pairzoo.train.rundir import load_run

    path = tmp / "student.onnx"
    export_onnx(load_run(out).model, path)
    return Member(
        name=out.name,
        version=None,
        sha256=sha256_file(path),
        session=open_session(str(path), threads),
        macs_per_pair=metrics.get("macs_per_pair"),
    )
