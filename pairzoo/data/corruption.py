"""Corruption modelled on the original task: jitter, blur, low contrast, noise, occlusion, lines.

`corrupt(digits, rng, severity)` maps clean uint8 digits (N, 28, 28) to corrupted ones. Everything
runs on whole chunks of images with numpy and scipy.ndimage; no Python loop per image. Severity 0
returns the digits unchanged; 6 is calibrated on the original task's statistics; the effects
grow with severity up to `MAX_SEVERITY`.

Order of operations, per image: small affine jitter (rotation, scale, shift) with bilinear
sampling; contrast gain; a background level plus white noise; Gaussian blur of the whole image
(so strokes are soft and the noise is smooth, as in the original); rounding to uint8 (the noise
seldom reaches 0, so exact zeros come from what follows); one or two large black occlusion
rectangles over the middle and small ones anywhere; thin black lines.

The parameters at severity 6 were fitted to the original's per-image statistics (see
`pairzoo.data.stats.ORIGINAL`) and checked by eye against its pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_SEVERITY", "CorruptionParams", "RectGroup", "corrupt", "params_for"]

MAX_SEVERITY = 10.0
SIZE = 28
_CHUNK = 4096


@dataclass(frozen=True)
class RectGroup:
    minimum: int  # rectangles per image: minimum + Binomial(*extra)
    extra: tuple[int, float]
    size: tuple[int, int]  # side length range, px, drawn per side
    centre: tuple[float, float]  # centre range, as a fraction of the image side


@dataclass(frozen=True)
class CorruptionParams:
    rotation_deg: float  # rotation uniform in +-rotation_deg
    scale: tuple[float, float]  # zoom factor range
    shift_px: float  # shift uniform in +-shift_px, each axis
    gain: tuple[float, float]  # stroke contrast gain range (uniform)
    background: tuple[float, float]  # background level range, grey levels
    noise_std: float  # white noise before the blur, grey levels
    blur_sigma: tuple[float, ...]  # blur sigmas, one drawn per image
    rects: tuple[RectGroup, ...]  # occlusion rectangles, exactly 0
    line_count: tuple[int, float]  # Binomial(n, p) lines per image
    line_length: tuple[float, float]  # px


def params_for(severity: float) -> CorruptionParams:
    """Corruption parameters at `severity` (0 < severity <= MAX_SEVERITY; 6 = original task)."""
    if not 0 < severity <= MAX_SEVERITY:
        raise ValueError(f"severity {severity} is outside (0, {MAX_SEVERITY:g}]")
    k = severity / 6.0
    return CorruptionParams(
        rotation_deg=15.0 * k,
        scale=(1.0 - 0.05 * k, 1.0 + 0.25 * k),
        shift_px=2.0 * k,
        gain=(max(0.1, 1.0 - 0.6 * k), 1.1),
        background=(5.0 * k, 10.0 * k),
        noise_std=8.0 * k,
        blur_sigma=tuple(s * k**0.5 for s in (0.8, 1.0, 1.2)),
        rects=(
            RectGroup(1, (1, min(1.0, 0.45 * k)), _sides(10 * k, 22 * k, cap=26), (0.22, 0.78)),
            RectGroup(0, (2, min(1.0, 0.55 * k)), _sides(4 * k, 13 * k, cap=16), (0.0, 1.0)),
        ),
        line_count=(3, min(1.0, 0.15 * k)),
        line_length=(5.0, 11.0),
    )


def _sides(low: float, high: float, cap: int) -> tuple[int, int]:
    return min(cap // 2, max(2, round(low))), min(cap, max(3, round(high)))


def corrupt(digits: np.ndarray, rng: np.random.Generator, severity: float = 6.0) -> np.ndarray:
    """Corrupt uint8 digit images (N, 28, 28); returns a new uint8 array of the same shape."""
    digits = np.asarray(digits)
    if digits.dtype != np.uint8 or digits.ndim != 3 or digits.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"digits: expected uint8 (N, 28, 28), found {digits.dtype} {digits.shape}")
    if severity == 0:
        return digits.copy()
    params = params_for(severity)
    out = np.empty_like(digits)
    for start in range(0, len(digits), _CHUNK):
        stop = start + _CHUNK
        out[start:stop] = _corrupt_chunk(digits[start:stop], rng, params)
    return out


def _corrupt_chunk(digits: np.ndarray, rng: np.random.Generator, p: CorruptionParams) -> np.ndarray:
    n = len(digits)
    img = _affine(digits.astype(np.float32), rng, p)
    img *= rng.uniform(*p.gain, size=(n, 1, 1)).astype(np.float32)
    img += rng.uniform(*p.background, size=(n, 1, 1)).astype(np.float32)
    img += p.noise_std * rng.standard_normal(img.shape, dtype=np.float32)
    img = _blur(img, rng, p.blur_sigma)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    out[_rectangles(n, rng, p)] = 0
    _draw_lines(out, rng, p)
    return out


def _affine(img: np.ndarray, rng: np.random.Generator, p: CorruptionParams) -> np.ndarray:
    """Rotate, zoom and shift each image about its centre (bilinear, zero outside)."""
    n = len(img)
    theta = np.deg2rad(rng.uniform(-p.rotation_deg, p.rotation_deg, size=n))
    inv_scale = 1.0 / rng.uniform(*p.scale, size=n)
    shift = rng.uniform(-p.shift_px, p.shift_px, size=(n, 2))
    cos, sin = np.cos(theta) * inv_scale, np.sin(theta) * inv_scale
    centre = (SIZE - 1) / 2.0
    grid = np.arange(SIZE, dtype=np.float32) - centre
    rr, cc = grid[:, None], grid[None, :]
    # Output pixel (r, c) samples the source at R^-1 (r - shift), the inverse of the forward map.
    dr = (rr[None] - shift[:, 0, None, None]).astype(np.float32)
    dc = (cc[None] - shift[:, 1, None, None]).astype(np.float32)
    cos, sin = cos[:, None, None].astype(np.float32), sin[:, None, None].astype(np.float32)
    src_r = cos * dr - sin * dc + centre
    src_c = sin * dr + cos * dc + centre
    padded = np.zeros((n, SIZE + 2, SIZE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = img
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    r0 = np.clip(r0.astype(np.int64) + 1, 0, SIZE + 1)
    c0 = np.clip(c0.astype(np.int64) + 1, 0, SIZE + 1)
    r1, c1 = np.clip(r0 + 1, 0, SIZE + 1), np.clip(c0 + 1, 0, SIZE + 1)
    base = (np.arange(n) * (SIZE + 2) ** 2)[:, None, None]
    flat = padded.ravel()
    w = SIZE + 2
    top = flat[base + r0 * w + c0] * (1 - fc) + flat[base + r0 * w + c1] * fc
    bottom = flat[base + r1 * w + c0] * (1 - fc) + flat[base + r1 * w + c1] * fc
    return top * (1 - fr) + bottom * fr


def _blur(img: np.ndarray, rng: np.random.Generator, sigmas: tuple[float, ...]) -> np.ndarray:
    from scipy import ndimage

    which = rng.integers(len(sigmas), size=len(img))
    out = np.empty_like(img)
    for i, sigma in enumerate(sigmas):
        sel = which == i
        if sel.any():
            out[sel] = ndimage.gaussian_filter(
                img[sel], sigma=(0, sigma, sigma), mode="nearest", truncate=3.0
            )
    return out


def _rectangles(n: int, rng: np.random.Generator, p: CorruptionParams) -> np.ndarray:
    """Boolean mask (n, 28, 28): large rectangles over the middle, small ones anywhere."""
    idx = np.arange(SIZE)
    mask = np.zeros((n, SIZE, SIZE), dtype=bool)
    for group in p.rects:
        most = group.minimum + group.extra[0]
        count = group.minimum + rng.binomial(*group.extra, size=n)
        active = np.arange(most)[None, :] < count[:, None]
        h = rng.integers(group.size[0], group.size[1] + 1, size=(n, most)) * active
        w = rng.integers(group.size[0], group.size[1] + 1, size=(n, most)) * active
        lo, hi = group.centre
        top = np.rint(rng.uniform(lo, hi, size=(n, most)) * SIZE - h / 2).astype(np.int64)
        left = np.rint(rng.uniform(lo, hi, size=(n, most)) * SIZE - w / 2).astype(np.int64)
        rows = (idx >= top[..., None]) & (idx < (top + h)[..., None])
        cols = (idx >= left[..., None]) & (idx < (left + w)[..., None])
        mask |= np.einsum("nkr,nkc->nrc", rows, cols, dtype=bool, casting="unsafe")
    return mask


def _draw_lines(out: np.ndarray, rng: np.random.Generator, p: CorruptionParams) -> None:
    """Draw thin black lines in place: dense samples along each segment, rounded to pixels."""
    n = len(out)
    count = rng.binomial(p.line_count[0], p.line_count[1], size=n)
    owner = np.repeat(np.arange(n), count)
    m = len(owner)
    if m == 0:
        return
    middle = rng.uniform(0.2 * SIZE, 0.8 * SIZE, size=(m, 2))
    angle = rng.uniform(0, np.pi, size=m)
    length = rng.uniform(*p.line_length, size=m)
    half = 0.5 * length[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    start, end = middle - half, middle + half
    steps = np.linspace(0.0, 1.0, 2 * int(np.ceil(p.line_length[1])) + 1)
    points = start[:, None, :] + steps[None, :, None] * (end - start)[:, None, :]
    pix = np.rint(points).astype(np.int64)
    inside = ((pix >= 0) & (pix < SIZE)).all(axis=2)
    img_idx = np.broadcast_to(owner[:, None], inside.shape)[inside]
    out[img_idx, pix[..., 0][inside], pix[..., 1][inside]] = 0
