"""Atomic file writes: a crash leaves either the old file or the new one, never half of one.

A temporary file is named after its writer (`.NAME.pz-HOST-PID-XXXXXXXX.tmp`), so the next
atomic write into the same directory can delete what a killed writer left behind: a temporary
file is only ever renamed by the process that made it, so one whose process is gone is garbage.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pairzoo.errors import PairzooError

_TEMP = re.compile(r"^\..+\.pz-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")


class WriteError(PairzooError, OSError):
    """A file could not be written; the file that was there before is unchanged."""

    def __init__(self, path: Path, step: str, cause: OSError):
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.step, self.cause = step, cause
        reason = cause.strerror or str(cause)
        self.message = (
            f"could not write {path}: {step} failed ({reason}, errno {cause.errno}); "
            "the previous file, if any, is unchanged"
        )

    def __str__(self) -> str:
        return self.message


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside `path`; on success fsync it and rename it over `path`.

    An OSError of the write itself is raised as WriteError (naming `path` and the step that
    failed) after the temporary file is deleted.
    """
    path = Path(path)
    step = "creating its directory"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        step = "creating a temporary file beside it"
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.pz-{owner_tag()}-", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise WriteError(path, step, exc) from exc
    callers = None  # an OSError of the caller's own (say, a file it reads) is not this write's
    try:
        step = "writing the temporary file"
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            try:
                yield fh
            except OSError as exc:
                if exc.filename not in (None, tmp):
                    callers = exc
                raise
            fh.flush()
            os.fsync(fh.fileno())
        step = "replacing it with the temporary file"
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc is not callers and not isinstance(exc, WriteError):
            raise WriteError(path, step, exc) from exc
        raise
    fsync_dir(path.parent)
    remove_stale_temps(path.parent)


def owner_tag() -> str:
    """HOST-PID of this process, as written into the names of its temporary files and dirs."""
    return f"{_host()}-{os.getpid()}"


@functools.cache
def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:32] or "host"


def is_stale(name: str, pattern: re.Pattern = _TEMP) -> bool:
    """True if `name` (matching `pattern`, with groups host and pid) was made by a process of
    this host that no longer runs; a name of another host is never judged stale."""
    m = pattern.match(name)
    return m is not None and m["host"] == _host() and not _alive(int(m["pid"]))


def remove_stale_temps(directory: Path) -> None:
    """Delete the temporary files that killed writers left in `directory` (best effort)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            if entry.name.endswith(".tmp") and is_stale(entry.name):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(directory: Path) -> None:
    """Make a rename inside `directory` durable (best effort where the OS refuses)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w") as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
