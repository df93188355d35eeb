"""train_run: train one pair model into a run directory, resumable from its last epoch."""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from pairzoo.atomic import write_json
from pairzoo.errors import ConfigError, RunError
from pairzoo.train.checkpoint import cpu_state_dict, load_torch, save_model, save_torch
from pairzoo.train.config import config_hash
from pairzoo.train.device import cpu_threads, pick_runtime
from pairzoo.train.loop import predict_logits, train_epoch
from pairzoo.train.metrics import binary_metrics
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runlog import RunLog
from pairzoo.train.session import Session, Splits, build_session, load_splits


def train_run(
    config: dict,
    out_dir,
    resume: bool = False,
    progress: bool = True,
    on_epoch=None,
    teacher_logits=None,
) -> dict:
    """Train per `config` into `out_dir`; returns the metrics written to metrics.json.

    With `resume`, continues from `out_dir/last.pt` (or returns the metrics of a finished run);
    the config must then hash the same as the run's. `on_epoch`, if given, is called with each
    epoch's history row as it is written. `teacher_logits` (float32, one per train pair) are
    handed to the loss as its teacher (the `distill` loss needs them). Raises ConfigError,
    PluginError, DataError.
    """
    out = Path(out_dir)
    cfg = resolve_config(config, out)
    chash = config_hash(cfg)
    done = _check_out_dir(out, chash, resume)
    if done is not None:
        return done
    with cpu_threads(cfg["train"]["threads"]):
        return _train(cfg, chash, out, resume, progress, on_epoch, teacher_logits)


def _train(
    cfg: dict, chash: str, out: Path, resume: bool, progress: bool, on_epoch, teacher_logits
) -> dict:
    t = cfg["train"]
    runtime = pick_runtime(t["device"], t["amp"])
    splits = load_splits(cfg, runtime, teacher_logits)
    session = build_session(cfg, runtime, splits.train)
    if getattr(session.stepper.loss_fn, "needs_teacher", False) and teacher_logits is None:
        raise ConfigError(
            f"loss '{cfg['loss']}' learns from a teacher's logits, which this run was not given; "
            "train it with `pairzoo distill`"
        )
    if resume and (out / "last.pt").exists():
        session.load_state_dict(load_torch(out / "last.pt"))
    else:
        write_json(out / "config.json", cfg)
    log = RunLog(out, resume_epoch=session.epoch, echo=_echo if progress else None)
    log.line(_header(cfg, runtime, splits, session))
    try:
        while session.epoch < t["epochs"] and not session.early.should_stop:
            _run_epoch(session, splits, cfg, chash, out, log, progress)
            if on_epoch is not None:
                on_epoch(session.history[-1])
        metrics = _finish(session, splits, cfg, chash, out)
        log.line(
            f"finished: best epoch {metrics['best_epoch']}, val accuracy {metrics['val']['accuracy']:.4f}"
        )
    finally:
        log.close()
    return metrics


def _check_out_dir(out: Path, chash: str, resume: bool) -> dict | None:
    if not out.exists() or not any(out.iterdir()):
        return None
    if not resume:
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    if (out / "config.json").exists():
        old = config_hash(json.loads((out / "config.json").read_text(encoding="utf-8")))
        if old != chash:
            raise ConfigError(
                f"{out} holds a run with a different config (hash {old[:12]}, now {chash[:12]}); "
                "resume with the same options or choose another --out"
            )
    metrics_path = out / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        if metrics.get("finished"):
            return metrics
    return None


def _run_epoch(
    session: Session, splits: Splits, cfg: dict, chash: str, out: Path, log: RunLog, progress: bool
):
    from tqdm.auto import tqdm

    s, t = session.stepper, cfg["train"]
    epoch = session.epoch + 1
    start = time.perf_counter()
    order = torch.from_numpy(session.np_rng.permutation(len(splits.train))).to(s.runtime.device)
    n = splits.train.n_batches(t["batch_size"])
    with tqdm(
        total=n,
        desc=f"epoch {epoch}/{t['epochs']}",
        leave=False,
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        train = train_epoch(s, splits.train, order, bar=bar if progress else None)
    val_logits = predict_logits(s.model, splits.val.x, s.runtime, t["eval_batch_size"])
    val_loss = _val_loss(s.loss_fn, val_logits, splits)
    val = binary_metrics(splits.val_y, val_logits.cpu().numpy())
    s.schedule.after_epoch(val["accuracy"])
    best = session.early.update(epoch, val["accuracy"])
    if best:
        session.best_state = cpu_state_dict(s.model)
        save_model(out / "model.pt", session.best_state, cfg)
    session.train_time_s += time.perf_counter() - start
    session.epoch = epoch
    row = {
        "epoch": epoch,
        "train_loss": train["loss"],
        "train_accuracy": train["accuracy"],
        "val_loss": val_loss,
        **{f"val_{k}": v for k, v in val.items()},
        "lr": s.schedule.lr(),
        "grad_norm": train["grad_norm"],
        "time_s": time.perf_counter() - start,
        "best": best,
    }
    session.history.append(row)
    log.epoch(row)
    write_json(out / "history.json", session.history)
    write_json(
        out / "metrics.json",
        _metrics(session, cfg, chash, _val_of_best(session), None, finished=False),
    )
    save_torch(out / "last.pt", {"format": 1, "config_hash": chash, **session.state_dict()})


def _val_loss(loss_fn, logits: torch.Tensor, splits: Splits) -> float:
    """The training loss on val; plain BCE when training follows a teacher, which val lacks."""
    y = torch.as_tensor(splits.val_y, dtype=torch.float32, device=logits.device)
    with torch.inference_mode():
        if splits.train.teacher is not None:
            return float(torch.nn.functional.binary_cross_entropy_with_logits(logits, y))
        return float(loss_fn(logits, y))


def _val_of_best(session: Session) -> dict:
    row = next(r for r in session.history if r["epoch"] == session.early.best_epoch)
    return {
        k[4:]: row[k]
        for k in ("val_accuracy", "val_f1", "val_precision", "val_recall", "val_roc_auc")
    }


def _finish(session: Session, splits: Splits, cfg: dict, chash: str, out: Path) -> dict:
    if session.best_state is None:
        raise RunError(f"{out}: no epoch finished, so there is no best model")
    model = session.stepper.model
    model.load_state_dict(session.best_state)
    test = None
    if splits.test is not None:
        logits = predict_logits(
            model, splits.test.x, session.stepper.runtime, cfg["train"]["eval_batch_size"]
        )
        test = binary_metrics(splits.test_y, logits.cpu().numpy())
    metrics = _metrics(session, cfg, chash, _val_of_best(session), test, finished=True)
    metrics["params"] = sum(p.numel() for p in model.parameters())
    metrics["macs_per_pair"] = _macs(model)
    write_json(out / "metrics.json", metrics)
    return metrics


def _metrics(
    session: Session, cfg: dict, chash: str, val: dict, test: dict | None, finished: bool
) -> dict[str, Any]:
    return {
        "finished": finished,
        "name": cfg["name"],
        "best_epoch": session.early.best_epoch,
        "epochs_run": session.epoch,
        "stopped_early": session.early.should_stop,
        "val": val,
        "test_public": test,
        "train_time_s": round(session.train_time_s, 3),
        "config_hash": chash,
    }


def _macs(model: torch.nn.Module) -> int:
    from pairzoo.profiling import count_macs

    return int(count_macs(copy.deepcopy(model).cpu().eval()))


def _header(cfg: dict, runtime, splits: Splits, session: Session) -> str:
    s = session.stepper
    what = f"resumed after epoch {session.epoch}" if session.epoch else "started"
    return (
        f"run '{cfg['name']}' {what}: arch {cfg['arch']} {json.dumps(cfg['arch_params'])}"
        f", loss {cfg['loss']}, rule {cfg['rule']}, {len(splits.train)} train / {len(splits.val_y)} val pairs"
        f", device {runtime.device}{' ' + str(runtime.amp_dtype) if runtime.amp_dtype else ''}"
        f", threads {torch.get_num_threads()}, aux digits {'on' if s.aux_weight > 0 else 'off'}"
    )


def _echo(message: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)
