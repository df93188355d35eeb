"""Whole batches of pairs as model inputs: no per-sample Python in the training loop.

Data stays uint8 (N, 28, 56) in memory; a batch is sliced with an index array and split into
xa, xb float32 (B, 1, 28, 28) = image / 255. torch is never imported here: the torch helpers
only call methods of the tensors they are given.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["batch_torch", "iter_batches", "split_pairs_np", "split_pairs_torch"]

HALF = 28


def _check_shape(shape, dtype) -> None:
    if len(shape) != 3 or tuple(shape[1:]) != (28, 56) or "uint8" not in str(dtype):
        raise ValueError(f"pairs: expected uint8 (N, 28, 56), found {dtype} {tuple(shape)}")


def split_pairs_np(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 pairs (N, 28, 56) -> (xa, xb) float32 (N, 1, 28, 28) in [0, 1]."""
    x = np.asarray(x)
    _check_shape(x.shape, x.dtype)
    scaled = x.astype(np.float32) / np.float32(255.0)
    return (
        np.ascontiguousarray(scaled[:, None, :, :HALF]),
        np.ascontiguousarray(scaled[:, None, :, HALF:]),
    )


def split_pairs_torch(x):
    """uint8 tensor (N, 28, 56) on any device -> (xa, xb) float32 (N, 1, 28, 28) on that device."""
    _check_shape(x.shape, x.dtype)
    scaled = x.unsqueeze(1).float().div_(255.0)
    return scaled[..., :HALF].contiguous(), scaled[..., HALF:].contiguous()


def batch_torch(x: np.ndarray, index: np.ndarray, device=None):
    """Pairs `x[index]` (numpy uint8) moved to `device` as uint8, then split: (xa, xb) float32.

    Copying uint8 and converting on the device moves a quarter of the bytes of float32.
    """
    import torch

    batch = torch.from_numpy(np.ascontiguousarray(x[index]))
    if device is not None:
        batch = batch.to(device, non_blocking=True)
    return split_pairs_torch(batch)


def iter_batches(
    n: int, batch_size: int, rng: np.random.Generator | None = None, drop_last: bool = False
) -> Iterator[np.ndarray]:
    """Index arrays covering range(n) in batches: shuffled by `rng` if given, else in order."""
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}, expected at least 1")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
