"""Which CPU this is: its model name and the instruction-set flags that decide what runs fast.

Speed measurements are cached per machine under this description, and benchmarks print it at
the top, because the same model's int8/fp32 ratio flips between CPUs with and without VNNI.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

# Flags that change which kernels onnxruntime and PyTorch pick on x86 (and their ARM peers).
SPEED_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_int8",
    "amx_bf16",
    "asimddp",
    "i8mm",
    "sve",
)


@dataclass(frozen=True)
class Cpu:
    model: str
    flags: tuple[str, ...]  # the SPEED_FLAGS it has, in SPEED_FLAGS order
    cores: int

    def describe(self) -> str:
        return f"{self.model}, {self.cores} cores, flags: {' '.join(self.flags) or 'none of note'}"

    def key(self) -> str:
        """A short stable id of this CPU kind (model and flags, not the core count)."""
        text = json.dumps([self.model, list(self.flags)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def this_cpu(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> Cpu:
    """The CPU described by `cpuinfo` (Linux format); platform facts where it cannot be read."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        text = ""
    return parse_cpuinfo(text)


def parse_cpuinfo(text: str) -> Cpu:
    model, flags, cores = "", set(), 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "Features"):
            flags.update(value.split())
        elif key == "processor":
            cores += 1
    return Cpu(
        model=model or platform.processor() or platform.machine() or "unknown CPU",
        flags=tuple(f for f in SPEED_FLAGS if f in flags),
        cores=cores or os.cpu_count() or 1,
    )
