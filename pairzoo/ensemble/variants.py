"""fp32 or int8 for each ensemble member: whichever is faster on this CPU, by measurement.

An int8 variant (`pairzoo export --quantize int8`) is in the registry only if it passed the
accuracy gate. Whether it is also faster depends on the CPU: with VNNI (AVX-512 or AVX) its
u8s8 kernels beat fp32, on an AVX2-only CPU they lose to it. So in mode ``auto`` both variants
run the same batch in turns for a few rounds (about a second per member), the best round of
each counts, and int8 is taken only if it is at least ``MIN_GAIN`` times faster; the figures are
cached per CPU kind (`pairzoo.speed_cache`). ``always`` and ``never`` force the choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pairzoo import speed_cache
from pairzoo.machine import this_cpu
from pairzoo.registry import Registry
from pairzoo.registry.card import Card
from pairzoo.runtime import timing
from pairzoo.speed_cache import pick_faster

MODES = ("auto", "always", "never")
MIN_GAIN = 1.10  # int8 costs a little accuracy: a near-tie (or noise) goes to fp32
FP32, INT8 = "fp32", "int8"


@dataclass
class Choice:
    """The variant a member runs as, why, and the speeds (pairs/s) behind it."""

    mode: str
    chosen: str
    speeds: dict[str, float] | None  # None: no int8 variant, or a forced mode without a cache
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        speeds = None if self.speeds is None else {k: round(v, 1) for k, v in self.speeds.items()}
        return {
            "mode": self.mode,
            "chosen": self.chosen,
            "pairs_per_s": speeds,
            "cached": self.cached,
        }

    def describe(self) -> str:
        if self.speeds is None:
            return f"{self.chosen} ({self.mode})"
        s = self.speeds
        return f"{self.chosen} (fp32 {s[FP32]:,.0f} | int8 {s[INT8]:,.0f} pairs/s, {self.mode})"


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"int8 mode {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def pick(mode: str, speeds: dict[str, float] | None, has_int8: bool) -> str:
    """The variant to run: `mode` auto|always|never, `speeds` in pairs/s (needed for auto)."""
    check_mode(mode)
    return pick_faster(mode, speeds, FP32, INT8, MIN_GAIN) if has_int8 else FP32


def int8_variant(registry: Registry, card: Card) -> Card | None:
    """The latest registered int8 variant made from exactly this fp32 entry, or None."""
    if "quantization" in card or not card.onnx:
        return None
    sha = card.onnx_sha256
    found = [
        c
        for c in registry.list(kind="model")
        if c.section("quantization").get("from") == card.ref
        and c.section("quantization").get("from_sha256") == sha
    ]
    return max(found, key=lambda c: c.version) if found else None


def choose(
    fp32: Any,
    int8: Any | None,
    mode: str = "auto",
    threads: int = 1,
    cpu: Any | None = None,
    clock: Callable[[], float] = time.perf_counter,
    cache: Any | None = None,
) -> Choice:
    """The variant of one member (`fp32`, `int8`: Members) to run on `cpu` (default: this one).

    Speeds come from the cache when this CPU kind measured this pair of files before; mode auto
    measures otherwise (and caches), forced modes use what the cache knows and measure nothing.
    """
    check_mode(mode)
    if int8 is None:
        return Choice(mode, FP32, None)
    import onnxruntime

    machine = (cpu or this_cpu()).key()
    key = f"{fp32.sha256}:{int8.sha256}:threads={threads}:batch={timing.BATCH}:ort={onnxruntime.__version__}"
    path = cache or speed_cache.cache_path()
    speeds = speed_cache.lookup(path, machine, key)
    cached = speeds is not None
    if speeds is None and mode == "auto":
        speeds = timing.measure({FP32: fp32.session, INT8: int8.session}, clock=clock)
        speed_cache.store(path, machine, key, speeds)
    return Choice(mode, pick(mode, speeds, True), speeds, cached)
