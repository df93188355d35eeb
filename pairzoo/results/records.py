"""Where a record lives (`results/KIND/CPU-KIND/DATE-COMMIT.json`) and what it holds besides the figures.

Figures depend on the CPU, so records are filed by a readable CPU kind; the commit and date say
what was measured and when.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pairzoo.atomic import write_json
from pairzoo.machine import Cpu, this_cpu

FORMAT = 1
# The widest instruction set first: it names the kernels the figures ran on.
_ISA_ORDER = ("amx_bf16", "avx512_bf16", "avx512_vnni", "avx512f", "avx2", "i8mm", "asimddp", "sve")


class RecordError(ValueError):
    """A record file that cannot be read as one."""


def cpu_kind(cpu: Cpu) -> str:
    """A readable directory name for a CPU kind: model slug, widest ISA, short key."""
    model = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*$", " ", cpu.model.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "unknown"
    isa = next((f for f in _ISA_ORDER if f in cpu.flags), "baseline")
    return f"{slug}-{isa.replace('_', '-')}-{cpu.key()[:6]}"


def current_commit(repo: Path) -> str:
    """The short commit of `repo`, `+dirty` if tracked files differ from it; `unknown` outside git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        clean = subprocess.run(["git", "-C", str(repo), "diff", "--quiet", "HEAD"]).returncode == 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha if clean else f"{sha}+dirty"


def save_record(
    root: Path, kind: str, data: Any, command: str, commit: str, cpu: Cpu | None = None
) -> Path:
    """Write `data` as a new record of `kind` under `root`, atomically; returns its path."""
    cpu = cpu or this_cpu()
    now = datetime.now(UTC)
    record = {
        "format": FORMAT,
        "kind": kind,
        "created": now.isoformat(timespec="seconds"),
        "commit": commit,
        "command": command,
        "cpu": {"kind": cpu_kind(cpu), "description": cpu.describe()},
        "data": data,
    }
    path = root / kind / cpu_kind(cpu) / f"{now:%Y%m%dT%H%M%SZ}-{commit}.json"
    write_json(path, record)
    return path


def read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecordError(f"{path}: not a readable JSON record ({e})") from e
    for key in ("kind", "created", "commit", "command", "cpu", "data"):
        if not isinstance(record, dict) or key not in record:
            raise RecordError(f"{path}: key '{key}' missing, expected a record written by pairzoo")
    return record


def newest_record(root: Path, kind: str) -> dict[str, Any] | None:
    """The most recently created record of `kind` over every CPU kind, else None."""
    records = [read_record(p) for p in sorted((root / kind).glob("*/*.json"))]
    return max(records, key=lambda r: r["created"], default=None)
