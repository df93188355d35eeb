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
from pairzoo.profiling import count_macs
from pairzoo.train.checkpoint import cpu_state_dict, load_torch, save_model, save_torch
from pairzoo.train.config import config_hash
from pairzoo.train.context import RunContext, RunOptions
from pairzoo.train.device import cpu_threads, device_type, pick_runtime
from pairzoo.train.digit_report import digit_report
from pairzoo.train.distributed import (
    Group,
    World,
    check_config,
    device_index,
    pick_backend,
    process_group,
    threads_per_process,
    world_from_env,
)
from pairzoo.train.failures import run_failures
from pairzoo.train.loop import predict_split, train_epoch
from pairzoo.train.metrics import binary_metrics
from pairzoo.train.resolve import resolve_config
from pairzoo.train.runconfig import RunConfig
from pairzoo.train.runlog import RunLog
from pairzoo.train.session import Session, Splits, build_session, load_splits


def train_run(
    config: dict,
    out_dir,
    resume: bool = False,
    progress: bool = True,
    on_epoch=None,
    teacher_logits=None,
    backend: str | None = None,
) -> dict:
    """Train per `config` into `out_dir`; returns the metrics written to metrics.json.

    With `resume`, continues from `out_dir/last.pt` (or returns the metrics of a finished run);
    the config must then hash the same as the run's. `on_epoch`, if given, is called with each
    epoch's history row as it is written. `teacher_logits` (float32, one per train pair) are
    handed to the loss as its teacher (the `distill` loss needs them). Raises ConfigError,
    PluginError, DataError.

    Launched by torchrun, every process calls this and they train one model data-parallel
    (see `pairzoo.train.distributed`): `backend` (else $PAIRZOO_DIST_BACKEND, else nccl on CUDA
    and gloo on the CPU) carries their collectives; every rank returns the same metrics and
    `on_epoch` is called on every rank with the same rows (but for `time_s`); rank 0 alone
    writes `out_dir`.
    """
    out = Path(out_dir)
    cfg = RunConfig.from_dict(resolve_config(config, out))
    options = RunOptions(resume, progress, on_epoch, teacher_logits, backend)
    world = world_from_env()
    if world is not None:
        with run_failures(out, cfg, writes=world.rank == 0):
            return _train_parallel(cfg, out, options, world)
    chash = cfg.hash()
    done = _check_out_dir(out, chash, resume)
    if done is not None:
        return done
    t = cfg.train
    with run_failures(out, cfg), cpu_threads(t.threads):
        runtime = pick_runtime(t.device, t.amp)
        return _train(RunContext(cfg, chash, out, runtime, options))


def _train_parallel(cfg: RunConfig, out: Path, options: RunOptions, world: World) -> dict:
    # Checks that need no other rank come first: a bad value fails every rank at once, no hang.
    t, chash = cfg.train, cfg.hash()
    check_config(cfg, world)
    cuda = device_type(t.device) == "cuda"
    backend = pick_backend(cuda, options.backend)
    index = device_index(world, backend) if cuda else None
    with cpu_threads(threads_per_process(t.threads, world)):
        runtime = pick_runtime(t.device, t.amp, index)
        with process_group(world, backend, runtime.device) as group:
            group.check_same(chash, "the config hash (data fingerprint, plugins, options)")
            done = group.from_main(lambda: _check_out_dir(out, chash, options.resume))
            if done is not None:
                return done
            return _train(RunContext(cfg, chash, out, runtime, options, group))


def _train(ctx: RunContext) -> dict:
    cfg, opts = ctx.config, ctx.options
    splits = load_splits(cfg, ctx.runtime, opts.teacher_logits)
    if ctx.group is not None:
        check_config(cfg, ctx.group.world, len(splits.train))
    session = build_session(cfg, ctx.runtime, splits.train, ctx.group)
    if getattr(session.stepper.loss_fn, "needs_teacher", False) and opts.teacher_logits is None:
        raise ConfigError(
            f"loss '{cfg.loss.name}' learns from a teacher's logits, which this run was not "
            "given; train it with `pairzoo distill`"
        )
    state = _load_last(ctx)
    if state is not None:
        session.load_state_dict(state, ctx.rank, cfg.seed)
    elif ctx.main:
        write_json(ctx.out / "config.json", cfg.to_dict())
    if ctx.main:
        ctx.log = RunLog(ctx.out, session.epoch, _echo if ctx.progress else None)
    ctx.log.line(_header(ctx, splits, session))
    if splits.pairs_note:
        ctx.log.line(splits.pairs_note)
    saved_world = (state or {}).get("world_size", 1)
    if state is not None and saved_world != ctx.world_size:
        ctx.log.line(
            f"last.pt was written by {saved_world} process(es), this run has {ctx.world_size}: "
            "each rank takes another share of every batch, and ranks with no saved random "
            "streams start fresh ones, so results differ from an uninterrupted run"
        )
    try:
        while session.epoch < cfg.train.epochs and not session.early.should_stop:
            _run_epoch(ctx, session, splits)
            if opts.on_epoch is not None:
                opts.on_epoch(session.history[-1])
        metrics = _finish(ctx, session, splits)
        ctx.log.line(
            f"finished: best epoch {metrics['best_epoch']}, "
            f"val accuracy {metrics['val']['accuracy']:.4f}"
        )
    finally:
        ctx.log.close()
        if splits.fresh is not None:
            splits.fresh.close()
    return metrics


def _load_last(ctx: RunContext) -> dict | None:
    """last.pt when resuming; data-parallel, rank 0 reads it and every rank gets its contents."""
    last = ctx.out / "last.pt"

    def read() -> dict | None:
        return load_torch(last) if ctx.options.resume and last.exists() else None

    return read() if ctx.group is None else ctx.group.from_main(read)


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


def _run_epoch(ctx: RunContext, session: Session, splits: Splits) -> None:
    s, t = session.stepper, ctx.config.train
    epoch = session.epoch + 1
    start = time.perf_counter()
    if splits.fresh is not None and epoch > 1:
        splits.train = splits.fresh.split(epoch)
    order = torch.from_numpy(session.np_rng.permutation(len(splits.train))).to(s.runtime.device)
    train = _train_epoch(ctx, session, splits, order, f"epoch {epoch}/{t.epochs}")
    val_logits = predict_split(s, splits.val.x, t.eval_batch_size)
    val_loss = _val_loss(s.loss_fn, val_logits, splits)
    val = binary_metrics(splits.val_y, val_logits.cpu().numpy())
    s.schedule.after_epoch(val["accuracy"])
    best = session.early.update(epoch, val["accuracy"])
    if best:
        session.best_state = cpu_state_dict(s.model)
        if ctx.main:
            save_model(ctx.out / "model.pt", session.best_state, ctx.config.to_dict())
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
    ranks_rng = None if ctx.group is None else ctx.group.gather_objects(session.rng_state())
    if ctx.main:
        _save_epoch(ctx, session, row, ranks_rng)


def _train_epoch(ctx: RunContext, session: Session, splits: Splits, order, desc: str) -> dict:
    from tqdm.auto import tqdm

    n = splits.train.n_batches(ctx.config.train.batch_size)
    with tqdm(total=n, desc=desc, leave=False, disable=not ctx.progress, file=sys.stderr) as bar:
        return train_epoch(session.stepper, splits.train, order, bar=bar if ctx.progress else None)


def _save_epoch(ctx: RunContext, session: Session, row: dict, ranks_rng) -> None:
    """The epoch's log line, history, unfinished metrics and resumable state (last.pt)."""
    ctx.log.epoch(row)
    write_json(ctx.out / "history.json", session.history)
    write_json(ctx.out / "metrics.json", _metrics(ctx, session, _val_of_best(session), None, False))
    state = {"format": 1, "config_hash": ctx.hash, **session.state_dict()}
    if ranks_rng is not None:
        state.update(world_size=ctx.group.size, rng_ranks=ranks_rng)
    save_torch(ctx.out / "last.pt", state)


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


def _finish(ctx: RunContext, session: Session, splits: Splits) -> dict:
    if session.best_state is None:
        raise RunError(f"{ctx.out}: no epoch finished, so there is no best model")
    model = session.stepper.model
    model.load_state_dict(session.best_state)
    test = None
    if splits.test is not None:
        logits = predict_split(session.stepper, splits.test.x, ctx.config.train.eval_batch_size)
        test = binary_metrics(splits.test_y, logits.cpu().numpy())
    metrics = _metrics(ctx, session, _val_of_best(session), test, finished=True)
    metrics["params"] = sum(p.numel() for p in model.parameters())
    metrics["macs_per_pair"] = _macs(model)
    if splits.val.digits is not None:
        batch = ctx.config.train.eval_batch_size
        metrics["val_digits"] = digit_report(
            model, splits.val.x, splits.val.digits, ctx.runtime, batch, splits.val_hidden
        )
    if ctx.main:
        write_json(ctx.out / "metrics.json", metrics)
    return metrics


def _metrics(
    ctx: RunContext, session: Session, val: dict, test: dict | None, finished: bool
) -> dict[str, Any]:
    return {
        "finished": finished,
        "name": ctx.config.name,
        "best_epoch": session.early.best_epoch,
        "epochs_run": session.epoch,
        "stopped_early": session.early.should_stop,
        "val": val,
        "test_public": test,
        "train_time_s": round(session.train_time_s, 3),
        "train_dtype": _dtype_name(ctx.runtime.amp_dtype),
        "config_hash": ctx.hash,
    }


def _dtype_name(dtype: torch.dtype | None) -> str:
    """The precision training steps ran in: "fp32", "bf16" or "fp16"."""
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32")


def _macs(model: torch.nn.Module) -> int:
    return int(count_macs(copy.deepcopy(model).cpu().eval()))


def _header(ctx: RunContext, splits: Splits, session: Session) -> str:
    s, cfg, runtime = session.stepper, ctx.config, ctx.runtime
    what = f"resumed after epoch {session.epoch}" if session.epoch else "started"
    return (
        f"run '{cfg.name}' {what}: arch {cfg.model.arch} {json.dumps(cfg.model.params)}"
        f", loss {cfg.loss.name}, rule {cfg.data.rule}, {len(splits.train)} train / {len(splits.val_y)} val pairs"
        f", device {runtime.device}{' ' + str(runtime.amp_dtype) if runtime.amp_dtype else ''}"
        f"{', precision ' + runtime.precision if runtime.precision else ''}"
        f", threads {torch.get_num_threads()}, aux digits {'on' if s.aux_weight > 0 else 'off'}"
        f"{', fresh pairs every epoch' if splits.fresh is not None else ''}"
        f"{', started from ' + session.init_note if session.init_note else ''}"
        + _parallel(ctx.group, cfg.train.batch_size, s.model)
    )


def _parallel(group: Group | None, batch_size: int, model: torch.nn.Module) -> str:
    if group is None:
        return ""
    sync = any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    return (
        f", data-parallel: world size {group.size}, backend {group.backend}"
        f", {batch_size // group.size} pairs per process of each global batch of {batch_size}"
        f", BatchNorm {'synchronised' if sync else 'statistics per process'}"
    )


def _echo(message: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)
