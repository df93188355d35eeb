"""Fault injection for the crash tests: kills at chosen points, failed writes, state snapshots.

Run as a script, it is `python -m pairzoo` that SIGKILLs itself at one chosen point::

    python tests/crash_fixtures.py WHEN:CALL:PATTERN:N -- train --out runs/a ...
    python tests/crash_fixtures.py batch:N:DELAY -- train --out runs/a ...

WHEN is `before` or `after`, CALL is `replace` (os.replace: the rename that ends an atomic
write), `rename` (os.rename: a staging dir moved into the registry) or `copy` (a file copied
into the registry's staging dir), PATTERN an fnmatch pattern on the destination path, and N which
matching call (1 = the first). The process dies with SIGKILL exactly there, so a test can look
at what a crash in the middle of a write leaves behind. `batch:N:DELAY` kills DELAY seconds
after the Nth training batch of this process starts (wherever the run is by then).
"""

from __future__ import annotations

import errno as errno_codes
import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from train_fixtures import PLUGINS_DIR

HERE = Path(__file__).resolve()
RECOVERABLE = {"unfinished", "orphaned"}  # what `registry verify` may report after a crash
ERRNOS = {
    "EROFS": errno_codes.EROFS,
    "EACCES": errno_codes.EACCES,
    "ENOSPC": errno_codes.ENOSPC,
}


# ---- subprocesses ------------------------------------------------------------------------


def train_args(data: Path, out: Path, epochs: int, sleep: float, *extra: str) -> list[str]:
    """`pairzoo train` arguments for the tiny fixture model (sleeping `sleep` s per batch)."""
    return [
        "train", "--data", str(data), "--out", str(out),
        "--arch", "tinypair", "--loss", "tinybce", "--plugins-dir", str(PLUGINS_DIR),
        "--epochs", str(epochs), "--batch-size", "32", "--lr", "0.01", "--seed", "7",
        "--threads", "1", "--patience", "0", "--arch-param", f"sleep={sleep}",
        "--no-progress", *extra,
    ]  # fmt: skip


def start(
    args: list[str], die_at: str | None = None, log: Path | None = None, env: dict | None = None
) -> subprocess.Popen:
    """`python -m pairzoo ARGS` (or this driver, dying at `die_at`) as a subprocess."""
    if die_at is None:
        cmd = [sys.executable, "-m", "pairzoo", *args]
    else:
        cmd = [sys.executable, str(HERE), die_at, "--", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent), **(env or {})}
    err = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    finally:
        if log is not None:
            err.close()


def finish(proc: subprocess.Popen, timeout: float = 120) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL `proc`; False if it had already ended on its own."""
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


def wait_for(condition, proc: subprocess.Popen, timeout: float = 90, poll: float = 0.005) -> bool:
    """Poll `condition()` until true (True) or until `proc` ends (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            return bool(condition())
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(poll)
    return True


def stamp(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, inode) of `path`, None if missing: changes whenever an atomic write lands."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_ino


# ---- what a run directory holds --------------------------------------------------------


def checkpoint_epoch(run: Path) -> int:
    import torch

    if not (run / "last.pt").exists():
        return 0
    return int(torch.load(run / "last.pt", weights_only=True)["epoch"])


def temp_files(root: Path) -> list[str]:
    """Temporary files and staging leftovers under `root`, relative."""
    found = [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    staging = root / ".staging"
    if staging.is_dir():
        found += list(staging.iterdir())
    return sorted(str(p.relative_to(root)) for p in found)


def describe_run(run: Path, epochs: int) -> str:
    """Where a killed run stands, from what is on disk: the kill point it hit."""
    if not run.exists():
        return "nothing written yet"
    ckpt = checkpoint_epoch(run)
    rows = (
        len(json.loads((run / "history.json").read_text()))
        if (run / "history.json").exists()
        else 0
    )
    finished = (run / "metrics.json").exists() and json.loads((run / "metrics.json").read_text())[
        "finished"
    ]
    temps = [t.split(".pz-")[0].lstrip(".") for t in temp_files(run)]
    if finished:
        where = "after the final metrics.json"
    elif ckpt == epochs:
        where = f"after the last checkpoint (epoch {ckpt}), before the final metrics.json"
    elif rows > ckpt:
        where = f"between the writes of epoch {rows} (checkpoint still at epoch {ckpt})"
    elif ckpt:
        where = f"mid-epoch {ckpt + 1} (checkpoint at epoch {ckpt})"
    else:
        where = "before the first checkpoint"
    return where + (f", during the write of {', '.join(temps)}" if temps else "")


def comparable_metrics(path: Path) -> dict:
    metrics = json.loads(path.read_text())
    for key in ("train_time_s", "config_hash", "name"):
        metrics.pop(key, None)
    return metrics


def comparable_history(path: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "time_s"} for row in json.loads(path.read_text())]


def weights(path: Path) -> dict:
    import torch

    return torch.load(path, weights_only=True)["state_dict"]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (lock files aside) with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


# ---- failed writes, in process ---------------------------------------------------------


class _FailingFile:
    """A file object whose writes fail with `code` (say, a disk that fills up)."""

    def __init__(self, fh, code: int):
        self._fh, self._code = fh, code

    def write(self, data):
        raise OSError(self._code, os.strerror(self._code))

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)


def fail_io(monkeypatch, code: int, op: str, pattern: str, nth: int = 1, modules=()) -> list:
    """From the `nth` call of `op` on a path matching `pattern` on, raise OSError(code).

    op: "open" (os.open: the temp file of an atomic write, or any file opened that way),
    "replace" (os.replace), "rename" (os.rename), "mkdir" (os.mkdir: temp and staging dirs),
    "write" (writes through a file opened by os.fdopen, or by `open` in each of `modules`).
    Returns the list of paths that failed.
    """
    failed: list[str] = []
    seen = [0]

    def hit(path) -> bool:
        if not fnmatch.fnmatch(str(path), pattern):
            return False
        seen[0] += 1
        if seen[0] < nth:
            return False
        failed.append(str(path))
        return True

    def boom(path):
        raise OSError(code, os.strerror(code), str(path))

    if op in ("open", "replace", "rename", "mkdir"):
        real = getattr(os, op)

        def patched(*args, **kwargs):
            target = args[0] if op in ("open", "mkdir") else args[1]
            if hit(target):
                boom(target)
            return real(*args, **kwargs)

        monkeypatch.setattr(os, op, patched)
    elif op == "write":
        real_fdopen = os.fdopen

        def fdopen(fd, *args, **kwargs):
            fh = real_fdopen(fd, *args, **kwargs)
            return _FailingFile(fh, code) if hit(os.readlink(f"/proc/self/fd/{fd}")) else fh

        monkeypatch.setattr(os, "fdopen", fdopen)
        for module in modules:

            def opener(file, mode="r", *args, **kwargs):
                fh = open(file, mode, *args, **kwargs)  # noqa: SIM115
                return _FailingFile(fh, code) if "w" in mode and hit(file) else fh

            monkeypatch.setattr(module, "open", opener, raising=False)
    else:
        raise ValueError(f"unknown op {op!r}")
    return failed


# ---- the driver: pairzoo dying at one point --------------------------------------------


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install(spec: str) -> None:
    if spec.startswith("batch:"):
        _, nth, delay = spec.split(":")
        _kill_after_batch(int(nth), float(delay))
        return
    when, call, pattern, nth = spec.split(":")
    count = [0]

    def due(path) -> bool:
        if fnmatch.fnmatch(str(path), pattern):
            count[0] += 1
            return count[0] == int(nth)
        return False

    if call in ("replace", "rename"):
        real = getattr(os, call)

        def patched(src, dst, *args, **kwargs):
            now = due(dst)
            if now and when == "before":
                _die()
            result = real(src, dst, *args, **kwargs)
            if now:
                _die()
            return result

        setattr(os, call, patched)
    elif call == "copy":
        from pairzoo.registry import store

        real_copy = store._copy_hashed

        def copy(src, dst):
            now = due(dst)
            if now and when == "before":
                _die()
            result = real_copy(src, dst)
            if now:
                _die()
            return result

        store._copy_hashed = copy
    else:
        raise SystemExit(f"unknown call {call!r} in {spec!r}")


def _kill_after_batch(nth: int, delay: float) -> None:
    import threading

    import torch

    count = [0]

    def hook(module, args):
        # the model itself (not its submodules) in training mode: one call per training batch
        if module.training and hasattr(module, "tower") and hasattr(module, "head"):
            count[0] += 1
            if count[0] == nth:
                threading.Timer(delay, _die).start()

    torch.nn.modules.module.register_module_forward_pre_hook(hook)


if __name__ == "__main__":
    spec, sep, *cli_args = sys.argv[1:]
    assert sep == "--", "usage: crash_fixtures.py WHEN:CALL:PATTERN:N -- PAIRZOO ARGS"
    _install(spec)
    from pairzoo.cli import main

    main(cli_args, prog_name="pairzoo")
