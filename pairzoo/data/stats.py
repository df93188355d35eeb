"""Per-image statistics of digit images, as defined for the original task's corruption.

Each 28x28 half of a pair is one digit image. A zero blob is a 4-connected component of pixels
exactly 0 with at least `MIN_BLOB` pixels. Percentiles use numpy's default (linear) method.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_BLOB", "ORIGINAL", "compare", "digit_images", "image_stats"]

MIN_BLOB = 12
_CHUNK = 8192

# Measured over the 4,000 digit images of the original public test set.
ORIGINAL: dict[str, dict[str, float]] = {
    "zero_fraction": {"p10": 0.26, "median": 0.43, "p90": 0.60, "mean": 0.43},
    "zero_blobs_per_image": {"mean": 1.34},
    "zero_blob_size": {"p10": 40, "median": 270, "p90": 448},
    "max_intensity": {"p10": 97, "median": 170, "p90": 231},
    "pixel_value": {"mean": 16.7, "std": 37.7},
}

LABELS = {
    "zero_fraction": "fraction of pixels exactly 0",
    "zero_blobs_per_image": f"zero blobs (4-connected, >= {MIN_BLOB} px) per image",
    "zero_blob_size": "zero blob size, px",
    "max_intensity": "maximum intensity",
    "pixel_value": "pixel value (all pixels)",
}


def digit_images(x: np.ndarray) -> np.ndarray:
    """The left halves then the right halves of pairs (N, 28, 56) as (2N, 28, 28) images."""
    return np.concatenate([x[:, :, :28], x[:, :, 28:]])


def _summary(values: np.ndarray, keys: tuple[str, ...]) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {k: float("nan") for k in keys}
    funcs = {
        "p10": lambda v: np.percentile(v, 10),
        "median": np.median,
        "p90": lambda v: np.percentile(v, 90),
        "mean": np.mean,
        "std": np.std,
    }
    return {k: float(funcs[k](values)) for k in keys}


def blob_sizes(images: np.ndarray, chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Sizes of all zero blobs and the image index of each, for uint8 images (M, 28, 28)."""
    sizes, owners = [], []
    for start in range(0, len(images), chunk):
        s, o = _blob_sizes(images[start : start + chunk])
        sizes.append(s)
        owners.append(o + start)
    if not sizes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(sizes), np.concatenate(owners)


def _blob_sizes(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage

    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)  # 4-connected, never across images
    labels, count = ndimage.label(images == 0, structure=structure)
    flat = labels.ravel()
    sizes = np.bincount(flat, minlength=count + 1)
    owner = np.zeros(count + 1, dtype=np.int64)
    owner[flat] = np.repeat(np.arange(len(images)), images[0].size)
    keep = np.flatnonzero(sizes >= MIN_BLOB)
    keep = keep[keep > 0]
    return sizes[keep], owner[keep]


def image_stats(images: np.ndarray) -> dict[str, dict[str, float]]:
    """The statistics of ORIGINAL, measured on uint8 digit images (M, 28, 28)."""
    images = np.asarray(images)
    sizes, owner = blob_sizes(images)
    per_image = np.bincount(owner, minlength=len(images))
    # Pixel mean and std from the histogram of values: exact, without a float copy of the data.
    counts = np.zeros(256, dtype=np.float64)
    for start in range(0, len(images), _CHUNK):  # bincount copies to intp: keep that copy small
        counts += np.bincount(images[start : start + _CHUNK].ravel(), minlength=256)
    values = np.arange(len(counts), dtype=np.float64)
    mean = float((counts * values).sum() / counts.sum())
    std = float(np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum()))
    return {
        "zero_fraction": _summary(
            (images == 0).mean(axis=(1, 2)), ("p10", "median", "p90", "mean")
        ),
        "zero_blobs_per_image": _summary(per_image, ("mean",)),
        "zero_blob_size": _summary(sizes, ("p10", "median", "p90")),
        "max_intensity": _summary(images.max(axis=(1, 2)), ("p10", "median", "p90")),
        "pixel_value": {"mean": mean, "std": std},
    }


def compare(
    measured: dict, reference: dict = ORIGINAL
) -> list[tuple[str, str, float, float, float]]:
    """Rows (statistic, key, reference, measured, relative difference) for every reference figure."""
    rows = []
    for stat, figures in reference.items():
        for key, ref in figures.items():
            got = measured[stat][key]
            rows.append((stat, key, float(ref), float(got), (got - ref) / ref))
    return rows
