"""Where a run computes: device choice, CPU threads, mixed-precision dtype, memory format."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch

from pairzoo.errors import ConfigError
from pairzoo.train import cpu_precision


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None  # None = full precision
    channels_last: bool
    fused_optimizer: bool = False  # one fused AdamW kernel instead of a loop over parameters
    precision: str = ""  # how amp_dtype was chosen, for the run's log

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self, training: bool = True):
        """Mixed precision for training steps; evaluation autocasts on CUDA only (see
        `pairzoo.train.cpu_precision`: on the CPU it runs at the exported models' fp32)."""
        return torch.autocast(
            self.device.type,
            dtype=self.amp_dtype or torch.float32,
            enabled=self.amp_dtype is not None and (training or self.cuda),
        )


def device_type(device: str = "auto") -> str:
    """ "cpu" or "cuda" for a config's auto|cpu|cuda; ConfigError for cuda without a device."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device 'cuda' requested but no CUDA device is available (use --device cpu)"
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def pick_runtime(device: str = "auto", amp: bool = True, index: int | None = None) -> Runtime:
    """`device` auto|cpu|cuda; with `amp`, mixed precision: on CUDA bf16 where supported, else
    fp16; on the CPU bf16 where it measured faster here (`pairzoo.train.cpu_precision`).

    `index` pins one CUDA device (a data-parallel rank's own) and makes it the current one.
    """
    if device_type(device) == "cpu":
        tuned = cpu_tuned()
        if not (amp and tuned):
            return Runtime(torch.device("cpu"), None, tuned, tuned, "fp32")

        choice = cpu_precision.choose()
        return Runtime(torch.device("cpu"), choice.dtype, True, True, choice.describe())
    cuda = torch.device("cuda") if index is None else torch.device("cuda", index)
    if index is not None:
        torch.cuda.set_device(cuda)
    # Fixed batch shapes: let cuDNN pick the fastest kernels; TF32 for float32 matmuls.
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("high")
    dtype = None
    if amp:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return Runtime(cuda, dtype, channels_last=True, fused_optimizer=True)


def cpu_tuned() -> bool:
    """channels_last tensors, a fused AdamW and bf16 where it pays, on the CPU, unless
    $PAIRZOO_CPU_TUNED is 0.

    Measured on the cpu profile's models (8-32 channels, one thread): oneDNN's convolutions,
    the backward ones above all, run about 1.3x faster on channels_last than on contiguous
    tensors (benchmarks/bench_train.py compares them in one run). 0 gives the former settings:
    contiguous tensors, AdamW's loop over parameters, fp32.
    """
    value = os.environ.get("PAIRZOO_CPU_TUNED", "1").strip()
    if value not in ("0", "1"):
        raise ConfigError(f"$PAIRZOO_CPU_TUNED must be 0 or 1, got {value!r:.40}")
    return value == "1"


def fit_layout(runtime: Runtime, model: torch.nn.Module) -> Runtime:
    """`runtime`, on contiguous tensors if the model has a layer whose channels_last backward
    is unsafe on the CPU.

    oneDNN's backward of a strided 1x1 convolution over 2-7 input channels in channels_last
    crashes the process (abort, segmentation fault or bus error) on AVX2-only CPUs (seen on an
    AMD EPYC Zen 3 with torch 2.13): the shortcut of a ResNet stage at width 1/16 is one.
    Contiguous tensors run the same model safely.
    """
    if not runtime.channels_last or runtime.cuda or not any(map(_unsafe, model.modules())):
        return runtime
    return replace(runtime, channels_last=False)


def _unsafe(module: torch.nn.Module) -> bool:
    return (
        isinstance(module, torch.nn.Conv2d)
        and module.kernel_size == (1, 1)
        and max(module.stride) > 1
        and 1 < module.in_channels < 8
    )


@contextlib.contextmanager
def cpu_threads(threads: int = 0) -> Iterator[int]:
    """Use `threads` torch CPU threads, or (0) one per core this process may run on; restore after.

    Small models on a busy machine often run faster with fewer threads than cores.
    """
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:
            threads = os.cpu_count() or 1
    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
