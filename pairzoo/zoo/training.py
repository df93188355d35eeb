"""Training a zoo's models: decide per model (new, keep, resume, redo), then train them here or in
worker processes, one model per process at a time.

Worker processes suit small models on a CPU: one thread per model and one model per core are
as fast as every thread on one model when the machine is quiet, and stay fast when it is shared,
where threads of one model wait on each other at every operation. Each worker reports its
models' epochs through a queue.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairzoo.errors import PairzooError
from pairzoo.plugins import load_plugins
from pairzoo.train import train_run
from pairzoo.train.config import config_hash
from pairzoo.train.resolve import resolve_config
from pairzoo.zoo.progress import Progress

TRAINED, RESUMED, KEPT = "trained", "resumed", "kept"
FAILED = "failed"


@dataclass
class Job:
    """One model to train: its run config (with data) and run directory."""

    name: str
    config: dict[str, Any]
    out: Path


def starting_from(job: Job, run: Path) -> Job:
    """`job` with its run starting from the weights of the run in `run`."""
    train = {**job.config.get("train", {}), "init_from": str(run)}
    return Job(job.name, {**job.config, "train": train}, job.out)


@dataclass
class Trained:
    name: str
    metrics: dict[str, Any] | None
    error: str | None
    wall_s: float


def prepare(job: Job, force: bool, say: Callable[[str], None]) -> str:
    """Clear the run directory if it must be redone; returns the status the model will get.

    Raises whatever resolving the config raises (an unknown architecture, unreadable data).
    """
    state = _run_state(job.config, job.out, force)
    if state == "stale":
        say(f"{job.name}: settings changed since the last run; training it again")
    if state in ("stale", "force"):
        shutil.rmtree(job.out)
    if state == "finished":
        say(f"{job.name}: already trained with these settings; kept")
    return {"finished": KEPT, "partial": RESUMED}.get(state, TRAINED)


def _run_state(config: dict[str, Any], out: Path, force: bool) -> str:
    """new | finished | partial (resume it) | stale (other settings) | force (retrain)."""
    resolved = resolve_config(config, out)  # fails early for unknown plugins or data
    if not out.exists() or not any(out.iterdir()):
        return "new"
    if force:
        return "force"
    saved = read_json(out / "config.json", None)
    if saved is None or config_hash(saved) != config_hash(resolved):
        return "stale"
    return "finished" if read_json(out / "metrics.json", {}).get("finished") else "partial"


def train_here(job: Job, bar: Progress) -> Trained:
    """Train in this process, with the trainer's own per-epoch bar."""
    start = time.perf_counter()
    bar.start_model(job.name, job.config["train"]["epochs"], epochs_done(job.out))
    try:
        metrics = train_run(
            job.config,
            job.out,
            resume=True,
            progress=bar.enabled,
            on_epoch=lambda row: bar.epoch(job.name, row),
        )
        return Trained(job.name, metrics, None, time.perf_counter() - start)
    except Exception as exc:  # one model's failure, whatever it is, must not stop the zoo
        return Trained(job.name, None, describe(exc), time.perf_counter() - start)
    finally:
        bar.end_model(job.name)


def train_in_workers(
    jobs: list[Job],
    workers: int,
    bar: Progress,
    on_done: Callable[[Trained], list[Job] | None],
    order: Callable[[list[Job]], list[Job]] | None = None,
) -> None:
    """Train `jobs` in up to `workers` processes; `on_done` gets each result in the order they
    finish and may return jobs it released (a chained model), which train too.

    A job goes to a worker only when one is free, so the next one is chosen then: the first by
    `order`, if given, else in the order given. A worker that dies fails the model it was
    training; the other workers go on. Interrupting (Ctrl-C) stops every worker; their runs
    resume from the last finished epoch next time.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    tasks, events = ctx.Queue(), ctx.Queue()
    procs: list = []
    ready = list(jobs)
    by_name = {job.name: job for job in jobs}
    running: dict[int, tuple[str, float]] = {}  # pid -> (model, start)
    remaining = set(by_name)  # ready, queued or running
    idle = 0  # started workers waiting for a task

    def finish(trained: Trained) -> None:
        released = on_done(trained) or []
        by_name.update((job.name, job) for job in released)
        remaining.update(job.name for job in released)
        ready[:] = order(ready + released) if order else ready + released

    try:
        while remaining:
            while ready and (idle or len(procs) < workers):
                if idle:
                    idle -= 1
                else:
                    proc = ctx.Process(target=_worker, args=(tasks, events), daemon=True)
                    proc.start()
                    procs.append(proc)
                job = ready.pop(0)
                tasks.put((job.name, job.config, str(job.out)))
            try:
                kind, name, payload = events.get(timeout=1.0)
            except queue.Empty:
                _reap(procs, running, remaining, ready, bar, finish)
                continue
            if kind == "start":
                running[payload] = (name, time.perf_counter())
                job = by_name[name]
                bar.start_model(name, job.config["train"]["epochs"], epochs_done(job.out))
            elif kind == "epoch":
                bar.epoch(name, payload)
            else:
                pid, metrics, error, wall = payload
                running.pop(pid, None)
                remaining.discard(name)
                idle += 1
                bar.end_model(name)
                finish(Trained(name, metrics, error, wall))
        for _ in procs:
            tasks.put(None)  # every worker is waiting for a task: let it end on its own
        for proc in procs:
            proc.join(timeout=10.0)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for q in (tasks, events):
            q.close()
            q.cancel_join_thread()  # items a killed worker left behind are of no use


def _reap(procs, running, remaining, ready, bar: Progress, finish) -> None:
    """Fail the model of every worker that died; fail everything left if no worker is alive."""
    for proc in procs:
        if proc.exitcode not in (None, 0) and proc.pid in running:
            name, start = running.pop(proc.pid)
            remaining.discard(name)
            bar.end_model(name)
            error = f"its worker process died (exit code {proc.exitcode})"
            finish(Trained(name, None, error, time.perf_counter() - start))
    if procs and not any(p.is_alive() for p in procs):
        ready.clear()
        while remaining:  # failing one may release others: fail them too
            name = min(remaining)
            remaining.discard(name)
            finish(Trained(name, None, "no worker process was left to train it", 0.0))
            ready.clear()


def _worker(tasks, events) -> None:
    # Ctrl-C reaches the whole process group; the parent decides and terminates workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    load_plugins()  # $PAIRZOO_PLUGINS_DIR, inherited from the parent
    pid = os.getpid()
    while (task := tasks.get()) is not None:
        name, config, out = task
        events.put(("start", name, pid))
        start = time.perf_counter()
        try:
            metrics = train_run(
                config,
                out,
                resume=True,
                progress=False,
                on_epoch=lambda row, name=name: events.put(("epoch", name, row)),
            )
            result = (pid, metrics, None, time.perf_counter() - start)
        except Exception as exc:
            result = (pid, None, describe(exc), time.perf_counter() - start)
        events.put(("done", name, result))


def epochs_done(out: Path) -> int:
    return len(read_json(out / "history.json", []))


def describe(exc: BaseException) -> str:
    if isinstance(exc, PairzooError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
