"""Corruption modelled on the original task: jitter, blur, low contrast, noise, occlusion, lines.

`corrupt(digits, rng, severity, base)` maps clean uint8 digits (N, 28, 28) to corrupted ones;
with `covered`, it also says how much of each digit's strokes the occlusions hid.
Everything runs on whole chunks of images with numpy and scipy.ndimage; no Python loop per image.
Severity 0 returns the digits unchanged; `base` holds the figures at severity 6 (by default those
of the shipped `corruption.toml`, fitted to the original task), which other severities scale.

Order of operations, per image: affine jitter (rotation, zoom, a normal shift) with bilinear
sampling; an optional stroke gamma (`intensity.gamma`: below 1, more mid-grey stroke); contrast
gain; a background level plus noise smoothed on its own (the original's background is smoother
than its strokes are blurred); Gaussian blur of the whole image; rounding to uint8 (the noise
seldom reaches 0, so exact zeros come from what follows); black occlusion rectangles, large ones
over the middle and small ones anywhere; thin black lines.
"""

from __future__ import annotations

import functools

import numpy as np

from pairzoo.data.corruption_params import (
    MAX_SEVERITY,
    CorruptionParams,
    RectGroup,
    load_corruption,
    scaled,
)

__all__ = ["MAX_SEVERITY", "CorruptionParams", "RectGroup", "corrupt", "params_for"]

SIZE = 28
_CHUNK = 4096
# A stroke pixel: at least half intensity in the digit as jittered, before contrast and noise.
STROKE = 128.0


@functools.cache
def _default_base() -> CorruptionParams:
    return load_corruption().params


def params_for(severity: float, base: CorruptionParams | None = None) -> CorruptionParams:
    """Corruption parameters at `severity` (0 < severity <= MAX_SEVERITY; 6 = `base` as given)."""
    return scaled(base or _default_base(), severity)


def corrupt(
    digits: np.ndarray,
    rng: np.random.Generator,
    severity: float = 6.0,
    base: CorruptionParams | None = None,
    covered: np.ndarray | None = None,
) -> np.ndarray:
    """Corrupt uint8 digit images (N, 28, 28); returns a new uint8 array of the same shape.

    `covered`, float32 (N,), receives each image's share of stroke pixels blacked out by the
    occlusions (rectangles and lines): 1 where none of the digit is left to read. It draws no
    random numbers, so the images are the same with it or without it.
    """
    digits = np.asarray(digits)
    if digits.dtype != np.uint8 or digits.ndim != 3 or digits.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"digits: expected uint8 (N, 28, 28), found {digits.dtype} {digits.shape}")
    if severity == 0:
        if covered is not None:
            covered[:] = 0.0
        return digits.copy()
    params = params_for(severity, base)
    out = np.empty_like(digits)
    for start in range(0, len(digits), _CHUNK):
        stop = start + _CHUNK
        part = None if covered is None else covered[start:stop]
        out[start:stop] = _corrupt_chunk(digits[start:stop], rng, params, part)
    return out


def _corrupt_chunk(
    digits: np.ndarray, rng: np.random.Generator, p: CorruptionParams, covered=None
) -> np.ndarray:
    n = len(digits)
    img = _affine(digits.astype(np.float32), rng, p)
    strokes = img >= STROKE if covered is not None else None
    if p.gamma is not None:  # drawn only where the file asks: files without it keep their images
        g = rng.uniform(*p.gamma, size=(n, 1, 1)).astype(np.float32)
        img = 255.0 * np.power(np.clip(img, 0.0, 255.0) / 255.0, g)
    img *= rng.uniform(*p.gain, size=(n, 1, 1)).astype(np.float32)
    img += rng.uniform(*p.background, size=(n, 1, 1)).astype(np.float32)
    img += _smooth(p.noise_std * rng.standard_normal(img.shape, dtype=np.float32), p.noise_blur)
    img = _blur(img, rng, p.blur_sigma)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    hidden = _rectangles(n, rng, p)
    out[hidden] = 0
    _draw_lines(out, rng, p, hidden)
    if covered is not None:
        total = strokes.sum(axis=(1, 2))
        lost = (strokes & hidden).sum(axis=(1, 2))
        covered[:] = np.where(total > 0, lost / np.maximum(total, 1), 1.0)
    return out


def _affine(img: np.ndarray, rng: np.random.Generator, p: CorruptionParams) -> np.ndarray:
    """Rotate, zoom and shift each image about its centre (bilinear, zero outside)."""
    n = len(img)
    theta = np.deg2rad(rng.uniform(-p.rotation_deg, p.rotation_deg, size=n))
    inv_scale = 1.0 / rng.uniform(*p.scale, size=n)
    shift = rng.normal(p.offset_px, p.shift_px, size=(n, 2))
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
    if p.elastic_alpha > 0:
        warp = _elastic_field(n, rng, p.elastic_alpha, p.elastic_sigma)
        src_r, src_c = src_r + warp[:, 0], src_c + warp[:, 1]
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


def _elastic_field(n: int, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Smooth random displacements (n, 2, 28, 28), px: each reuse of a source digit is reshaped.

    Random noise smoothed with `sigma` and scaled to a standard deviation of `alpha` px, so the
    size of the displacements does not depend on how much the smoothing shrank them.
    """
    from scipy import ndimage

    field = rng.standard_normal((n, 2, SIZE, SIZE), dtype=np.float32)
    field = ndimage.gaussian_filter(field, sigma=(0, 0, sigma, sigma), mode="reflect")
    field *= alpha / max(float(field.std()), 1e-6)
    return field


def _smooth(img: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    if sigma == 0:
        return img
    return ndimage.gaussian_filter(img, sigma=(0, sigma, sigma), mode="nearest", truncate=3.0)


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
    """Boolean mask (n, 28, 28): large rectangles over the middle, small ones anywhere; a group
    with angle_deg > 0 rotates each of its rectangles, so overlapping ones make irregular blobs,
    and one with parts makes each occlusion a union of rectangles of their own sides."""
    idx = np.arange(SIZE)
    mask = np.zeros((n, SIZE, SIZE), dtype=bool)
    for group in p.rects:
        h, w, centre = _layout(group, n, rng)
        if group.angle_deg > 0:
            angle = np.deg2rad(rng.uniform(-group.angle_deg, group.angle_deg, size=h.shape))
            mask |= _rotated(h, w, centre, angle)
            continue
        top = np.rint(centre[0] - h / 2).astype(np.int64)
        left = np.rint(centre[1] - w / 2).astype(np.int64)
        rows = (idx >= top[..., None]) & (idx < (top + h)[..., None])
        cols = (idx >= left[..., None]) & (idx < (left + w)[..., None])
        mask |= np.einsum("nkr,nkc->nrc", rows, cols, dtype=bool, casting="unsafe")
    return mask


def _layout(group: RectGroup, n: int, rng: np.random.Generator):
    """Heights, widths (0 where unused) and centres (2, n, slots) of a group's rectangles, px:
    minimum + Binomial(extra) occlusions per image, each 1 + Binomial(parts) rectangles whose
    centres lie within +-spread of the first's (placed by its `anchor` point)."""
    most = group.minimum + group.extra[0]
    count = group.minimum + rng.binomial(*group.extra, size=n)
    active = np.arange(most)[None, :] < count[:, None]
    added, probability = group.parts
    if added:
        parts = rng.binomial(added, probability, size=(n, most))
        active = (active[..., None] & (np.arange(1 + added) <= parts[..., None])).reshape(n, -1)
    h = rng.integers(group.size[0], group.size[1] + 1, size=active.shape) * active
    w = rng.integers(group.size[0], group.size[1] + 1, size=active.shape) * active
    lo, hi = group.centre
    centre = rng.uniform(lo, hi, size=(2, n, most)) * SIZE
    if group.anchor != 0.5:  # `centre` places another point of each rectangle: move to its centre
        centre = centre + (0.5 - group.anchor) * np.stack([h, w])[:, :, :: 1 + added]
    if added:
        offset = rng.uniform(-group.spread, group.spread, size=(2, n, most, 1 + added))
        offset[..., 0] = 0.0
        centre = (centre[..., None] + offset).reshape(2, n, -1)
    return h, w, centre


def _rotated(h, w, centre: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Union over k of pixel centres inside rectangle k (h x w, rotated by angle about centre)."""
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    dr = grid[None, None, :, None] - centre[0][..., None, None]
    dc = grid[None, None, None, :] - centre[1][..., None, None]
    cos, sin = np.cos(angle)[..., None, None], np.sin(angle)[..., None, None]
    along, across = dr * cos + dc * sin, dc * cos - dr * sin
    inside = (np.abs(along) < h[..., None, None] / 2) & (np.abs(across) < w[..., None, None] / 2)
    return inside.any(axis=1)


def _draw_lines(
    out: np.ndarray, rng: np.random.Generator, p: CorruptionParams, hidden: np.ndarray
) -> None:
    """Draw thin black lines in place: dense samples along each segment, rounded to pixels; the
    pixels drawn are marked in the mask `hidden` too."""
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
    rows, cols = pix[..., 0][inside], pix[..., 1][inside]
    out[img_idx, rows, cols] = 0
    hidden[img_idx, rows, cols] = True
