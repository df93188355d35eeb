"""Where a run computes: device choice, CPU threads, mixed-precision dtype, memory format."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from pairzoo.errors import ConfigError


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None  # None = full precision
    channels_last: bool

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self):
        return torch.autocast(
            self.device.type,
            dtype=self.amp_dtype or torch.float32,
            enabled=self.amp_dtype is not None,
        )


def pick_runtime(device: str = "auto", amp: bool = True, threads: int = 0) -> Runtime:
    """`device` auto|cpu|cuda; mixed precision only on CUDA, bf16 where supported, else fp16."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "device 'cuda' requested but no CUDA device is available (use --device cpu)"
        )
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    set_threads(threads)
    if device == "cpu":
        return Runtime(torch.device("cpu"), None, channels_last=False)
    dtype = None
    if amp:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return Runtime(torch.device("cuda"), dtype, channels_last=True)


def set_threads(threads: int = 0) -> int:
    """Use `threads` CPU threads, or (0) one per core this process may run on."""
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:
            threads = os.cpu_count() or 1
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
