"""A split held as whole tensors on the compute device, sliced into batches by index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class DeviceSplit:
    """x uint8 (N, 28, 56), y float32 (N,), digits int64 (N, 2), teacher float32 (N,) logits.

    All but x may be None; all live on one device.
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    digits: torch.Tensor | None = None
    teacher: torch.Tensor | None = None

    @classmethod
    def from_arrays(
        cls, x, y=None, digits=None, device="cpu", indices=None, teacher=None
    ) -> DeviceSplit:
        arrays = (x, y, digits, teacher)
        if indices is not None:
            arrays = tuple(None if a is None else a[indices] for a in arrays)
        x, y, digits, teacher = arrays
        return cls(
            _tensor(x, torch.uint8, device),
            _tensor(y, torch.float32, device),
            _tensor(digits, torch.int64, device),
            _tensor(teacher, torch.float32, device),
        )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def n_batches(self, batch_size: int) -> int:
        """Full batches only (a last partial batch is dropped), but at least one."""
        return max(1, len(self) // batch_size)

    def batches(
        self, order: torch.Tensor, batch_size: int, rank: int = 0, world: int = 1
    ) -> Iterator[tuple]:
        """(x_u8, y, digits, teacher) batches taken in `order` (indices on the split's device).

        With `world` > 1, `batch_size` is the global batch and this rank gets its own contiguous
        1/`world` of each (the caller makes it divide evenly).
        """
        size = min(batch_size, len(self))
        part = size // world
        for i in range(self.n_batches(batch_size)):
            idx = order[i * size : (i + 1) * size]
            if world > 1:
                idx = idx[rank * part : (rank + 1) * part]
            yield (
                self.x.index_select(0, idx),
                None if self.y is None else self.y.index_select(0, idx),
                None if self.digits is None else self.digits.index_select(0, idx),
                None if self.teacher is None else self.teacher.index_select(0, idx),
            )


def _tensor(array, dtype: torch.dtype, device) -> torch.Tensor | None:
    if array is None:
        return None
    return torch.as_tensor(np.ascontiguousarray(array)).to(device=device, dtype=dtype)
