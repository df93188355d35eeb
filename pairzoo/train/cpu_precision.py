"""fp32 or bf16 autocast for training on the CPU: whichever is faster on this CPU, by measurement.

With AVX-512 BF16 (Zen 4, recent Xeons) oneDNN's bf16 convolutions do twice the work per
instruction and move half the bytes, and the cpu profile's models train about 1.3x faster; a CPU
without those kernels (AVX2 only) has no fast bf16 path at all. So mode ``auto`` times a few
training steps of a small convolutional probe in both precisions, in turns (about a second), and
takes bf16 only if it is at least ``MIN_GAIN`` times faster. The figures are cached per CPU kind
(`pairzoo.speed_cache`). ``$PAIRZOO_CPU_BF16`` = auto|always|never chooses the mode.

Only training steps autocast: evaluation on the CPU stays fp32, the precision of the exported
models, so a run's val accuracy is the one its ONNX file gets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from pairzoo import speed_cache
from pairzoo.errors import ConfigError
from pairzoo.machine import this_cpu
from pairzoo.speed_cache import pick_faster

ENV = "PAIRZOO_CPU_BF16"
MODES = ("auto", "always", "never")
MIN_GAIN = 1.10  # bf16 changes the numerics a little: a near-tie (or noise) stays fp32
ROUNDS = 5
STEPS = 2  # probe steps per timed round
BATCH = 256  # images: the cpu profile's 128 pairs through a siamese tower
FP32, BF16 = "fp32", "bf16"


@dataclass(frozen=True)
class Choice:
    """The precision CPU training runs in, why, and the probe's speeds (steps/s) behind it."""

    mode: str
    chosen: str
    speeds: dict[str, float] | None  # None: not measured (forced, or no bf16 kernels)
    cached: bool = False
    reason: str = ""

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, None for full precision."""
        return torch.bfloat16 if self.chosen == BF16 else None

    def describe(self) -> str:
        why = self.reason or self.mode
        if self.speeds is None:
            return f"{self.chosen} ({why})"
        s = self.speeds
        return f"{self.chosen} (probe fp32 {s[FP32]:,.1f} | bf16 {s[BF16]:,.1f} steps/s, {why})"


def cpu_mode() -> str:
    value = os.environ.get(ENV, "auto").strip() or "auto"
    if value not in MODES:
        raise ConfigError(f"${ENV} must be one of {', '.join(MODES)}, got {value!r:.40}")
    return value


def bf16_kernels() -> bool:
    """True if this PyTorch build has oneDNN bf16 kernels for this CPU."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def pick(mode: str, speeds: dict[str, float] | None) -> str:
    """The precision for `mode` given the probe's `speeds` (needed for auto)."""
    return pick_faster(mode, speeds, FP32, BF16, MIN_GAIN)


def choose(
    mode: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
    cpu=None,
    cache=None,
    kernels: bool | None = None,
) -> Choice:
    """The precision of CPU training here; mode auto measures once per CPU kind and caches."""
    mode = cpu_mode() if mode is None else mode
    if mode == "never":
        return Choice(mode, FP32, None)
    if not (bf16_kernels() if kernels is None else kernels):
        if mode == "always":
            raise ConfigError(
                f"${ENV}=always, but PyTorch has no bf16 CPU kernels for this CPU "
                "(they need AVX-512 BF16 or AMX); use auto or never"
            )
        return Choice(mode, FP32, None, reason="no bf16 kernels on this CPU")
    if mode == "always":
        return Choice(mode, BF16, None)
    machine = (cpu or this_cpu()).key()
    key = f"train-probe:torch={torch.__version__}:threads={torch.get_num_threads()}:batch={BATCH}"
    path = cache or speed_cache.cache_path()
    speeds, cached = speed_cache.lookup_or_measure(
        path, machine, key, (FP32, BF16), lambda: measure(clock)
    )
    return Choice(mode, pick(mode, speeds), speeds, cached)


def measure(clock: Callable[[], float] = time.perf_counter, rounds: int = ROUNDS) -> dict:
    """Training steps/s of the probe in fp32 and in bf16 autocast, in turns, best round each."""
    steppers = {FP32: _probe_step(None), BF16: _probe_step(torch.bfloat16)}
    for step in steppers.values():
        step()  # warm-up: oneDNN picks and caches its kernels
    best = dict.fromkeys(steppers, float("inf"))
    for _ in range(rounds):
        for name, step in steppers.items():
            start = clock()
            for _ in range(STEPS):
                step()
            best[name] = min(best[name], clock() - start)
    return {name: STEPS / max(seconds, 1e-12) for name, seconds in best.items()}


def _probe_step(dtype: torch.dtype | None) -> Callable[[], None]:
    """One training step of a tower shaped like the cpu profile's (8-32 channels, 28x28)."""
    from torch import nn

    gen = torch.Generator().manual_seed(0)
    layers, width = [], 1
    for out, stride in ((8, 1), (8, 1), (16, 2), (16, 1), (32, 2), (32, 1)):
        layers += [nn.Conv2d(width, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        width = out
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 1))
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    x = torch.rand(BATCH, 1, 28, 28, generator=gen).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (BATCH, 1), generator=gen).float()

    def step() -> None:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step
