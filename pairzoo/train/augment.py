"""Paired augmentation on whole batches: one random affine per pair for both images, and a/b swap.

A batch is held as ``pair`` float32 (B, 2, 28, 28): channel 0 is the left image, channel 1 the
right one, so a single ``grid_sample`` applies each pair's affine to both of its images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def to_pair(x_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 28, 56) -> float32 (B, 2, 28, 28) in [0, 1]; channel 0 left, channel 1 right."""
    b, h, w = x_u8.shape
    return x_u8.view(b, h, 2, w // 2).permute(0, 2, 1, 3).float().div_(255.0)


class PairAugment:
    """Random rotation, translation and resized crop shared by a pair's images; a/b swap.

    `on_swap` is the label rule's: "flip" (label becomes 1 - y), "keep", or "none" (no swap).
    """

    def __init__(
        self,
        rotate: float,
        translate: float,
        crop_scale: tuple[float, float],
        affine: bool,
        swap: bool,
        on_swap: str,
    ):
        self.rotate = math.radians(rotate)
        self.translate = translate
        self.crop_scale = crop_scale
        self.affine = affine
        self.swap = swap and on_swap in ("flip", "keep")
        self.flip_label = on_swap == "flip"

    def __call__(self, pair, y, digits, generator, teacher=None):
        """Augmented (pair, y, digits, teacher); `digits` (B, 2) and `teacher` (B,) may be None.

        `teacher` holds a teacher's logits: a swap negates them where it flips the label. Never
        used in evaluation.
        """
        # Draw every number whatever the options, so one seed gives one stream.
        u = torch.rand(pair.shape[0], 7, generator=generator, device=pair.device)
        if self.affine:
            pair = self._affine(pair, u[:, :6])
        if self.swap:
            mask = u[:, 6] < 0.5
            pair = torch.where(mask[:, None, None, None], pair.flip(1), pair)
            if self.flip_label:
                y = torch.where(mask, 1.0 - y, y)
                if teacher is not None:
                    teacher = torch.where(mask, -teacher, teacher)
            if digits is not None:
                digits = torch.where(mask[:, None], digits.flip(1), digits)
        return pair, y, digits, teacher

    def _affine(self, pair: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        angle = (u[:, 0] * 2 - 1) * self.rotate
        low, high = self.crop_scale
        side = torch.sqrt(low + u[:, 1] * (high - low))  # crop side, as a fraction of the image
        # Crop centre anywhere the crop fits, plus a translation (normalised coordinates span 2).
        shift = (u[:, 2:4] * 2 - 1) * (1 - side)[:, None] + (u[:, 4:6] * 2 - 1) * 2 * self.translate
        cos, sin = torch.cos(angle) * side, torch.sin(angle) * side
        theta = torch.stack(
            [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
        )
        grid = F.affine_grid(theta.to(pair.dtype), list(pair.shape), align_corners=False)
        return F.grid_sample(pair, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
