"""Per-image statistics that tell the original task's real digit images from generated ones.

SEED_SUMMARY's statistics (pairzoo.data.stats) agree within a few per cent between the real
pairs and generated ones that a small CNN still tells apart. These are the statistics where the
two were measured to differ, each a sample of values (one per image, or one per zero blob) to
be compared between two sets with a two-sample test:

- noise_correlation: the lag-1 correlation of horizontally adjacent background pixels (both in
  1..29). Independent per-pixel noise gives about 0; noise that was blurred, resized or
  compressed with the digit gives more. It describes the noise's texture, not its level.
- blob_rectangularity: a zero blob's area over its bounding box's area (blobs of >= MIN_BLOB px).
  A whole axis-aligned occlusion rectangle gives 1; rectangles overlapping each other or the
  border, rotated, or with ragged edges give less.
- zero_specks: 4-connected zero components under MIN_BLOB px per image: the small exact zeros
  that noise, rounding or thin dark lines leave, which the blob count ignores.
- border_zero_fraction: the zero fraction of the outer BORDER-px ring. Where occlusions are
  placed (clipped at the edge or kept inside) and how dark the margin around the digit is.
- stroke_row, stroke_col: the row and column centre of mass of the bright stroke pixels
  (> STROKE px) per image. Their spread across images is how much digits move and vary in size.
"""

from __future__ import annotations

import numpy as np

from pairzoo.data.stats import MIN_BLOB

__all__ = [
    "BORDER",
    "LABELS",
    "NOISE_RANGE",
    "PER_IMAGE",
    "STROKE",
    "per_image_values",
    "separating_values",
    "separation",
    "summarise",
]

NOISE_RANGE = (1, 29)  # grey levels counted as background noise
BORDER = 2  # width of the border ring, px
STROKE = 60  # pixels above this are stroke
_CHUNK = 4096

LABELS = {
    "noise_correlation": "noise lag-1 correlation (horizontal neighbours in 1..29), per image",
    "blob_rectangularity": f"zero blob area / bounding box area (blobs >= {MIN_BLOB} px), per blob",
    "zero_specks": f"zero specks (4-connected, < {MIN_BLOB} px) per image",
    "border_zero_fraction": f"zero fraction of the {BORDER}-px border ring, per image",
    "stroke_row": f"row centre of mass of stroke pixels (> {STROKE}), per image",
    "stroke_col": f"column centre of mass of stroke pixels (> {STROKE}), per image",
}

# per_image_values's keys, in order: LABELS's statistics with the blob count beside the blobs'.
PER_IMAGE = (
    "noise_correlation",
    "blob_rectangularity",
    "blob_count",
    "zero_specks",
    "border_zero_fraction",
    "stroke_row",
    "stroke_col",
)


def separating_values(images: np.ndarray) -> dict[str, np.ndarray]:
    """Each statistic of LABELS as a float64 sample, for uint8 images (M, 28, 28).

    An image without the pixels a statistic needs (no noise pairs, no stroke pixels) gives no
    value for it, so samples can be shorter than M.
    """
    images = np.asarray(images)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in LABELS}
    for start in range(0, len(images), _CHUNK):
        chunk = images[start : start + _CHUNK]
        for name, values in _chunk_values(chunk).items():
            parts[name].append(values)
    return {name: np.concatenate(p) if p else np.zeros(0, np.float64) for name, p in parts.items()}


def _chunk_values(images: np.ndarray) -> dict[str, np.ndarray]:
    rectangularity, _, specks = _zero_components(images)
    rows, cols = _stroke_centres(images)
    return {
        "noise_correlation": _drop_nan(_noise_correlation(images)),
        "blob_rectangularity": rectangularity,
        "zero_specks": specks,
        "border_zero_fraction": _border_zero_fraction(images),
        "stroke_row": _drop_nan(rows),
        "stroke_col": _drop_nan(cols),
    }


def per_image_values(images: np.ndarray) -> dict[str, np.ndarray]:
    """Each statistic of LABELS as one float64 value per uint8 image (M, 28, 28), NaN where an
    image has none; blob_rectangularity is the mean over the image's blobs, blob_count beside it.
    The features of a detector that scores images one at a time."""
    images = np.asarray(images)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(images), _CHUNK):
        chunk = images[start : start + _CHUNK]
        rectangularity, owner, specks = _zero_components(chunk)
        count = np.bincount(owner, minlength=len(chunk)).astype(np.float64)
        total = np.bincount(owner, weights=rectangularity, minlength=len(chunk))
        rows, cols = _stroke_centres(chunk)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = {
                "noise_correlation": _noise_correlation(chunk),
                "blob_rectangularity": np.where(count > 0, total / count, np.nan),
                "blob_count": count,
                "zero_specks": specks,
                "border_zero_fraction": _border_zero_fraction(chunk),
                "stroke_row": rows,
                "stroke_col": cols,
            }
        for name in PER_IMAGE:
            parts.setdefault(name, []).append(values[name])
    return {name: np.concatenate(p) for name, p in parts.items()}


def _drop_nan(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def _noise_correlation(images: np.ndarray) -> np.ndarray:
    low, high = NOISE_RANGE
    x = images.astype(np.float64)
    left, right = x[:, :, :-1], x[:, :, 1:]
    mask = (left >= low) & (left <= high) & (right >= low) & (right <= high)
    n = mask.sum(axis=(1, 2)).astype(np.float64)

    def total(values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, 0.0).sum(axis=(1, 2))

    with np.errstate(invalid="ignore", divide="ignore"):
        mean_l, mean_r = total(left) / n, total(right) / n
        cov = total(left * right) / n - mean_l * mean_r
        var_l = total(left * left) / n - mean_l**2
        var_r = total(right * right) / n - mean_r**2
        corr = cov / np.sqrt(var_l * var_r)
    return np.where((n >= 2) & (var_l > 0) & (var_r > 0), corr, np.nan)


def _zero_components(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rectangularity of each zero blob, the image it lies in, and each image's zero specks."""
    from scipy import ndimage

    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)  # 4-connected, never across images
    labels, count = ndimage.label(images == 0, structure=structure)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    boxes = ndimage.find_objects(labels)  # one (image, row, col) slice triple per component
    owner = np.fromiter((box[0].start for box in boxes), np.int64, count)
    box_area = np.fromiter((_span(box[1]) * _span(box[2]) for box in boxes), np.float64, count)
    blob = sizes >= MIN_BLOB
    specks = np.bincount(owner[~blob], minlength=len(images)).astype(np.float64)
    return sizes[blob] / box_area[blob], owner[blob], specks


def _span(s: slice) -> int:
    return s.stop - s.start


def _border_zero_fraction(images: np.ndarray) -> np.ndarray:
    ring = np.ones(images.shape[1:], dtype=bool)
    ring[BORDER:-BORDER, BORDER:-BORDER] = False
    return (images[:, ring] == 0).mean(axis=1)


def _stroke_centres(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stroke = images > STROKE
    n = stroke.sum(axis=(1, 2)).astype(np.float64)
    rows = np.arange(images.shape[1], dtype=np.float64)
    cols = np.arange(images.shape[2], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        row = (stroke.sum(axis=2) * rows).sum(axis=1) / n
        col = (stroke.sum(axis=1) * cols).sum(axis=1) / n
    return np.where(n > 0, row, np.nan), np.where(n > 0, col, np.nan)


def summarise(values: np.ndarray) -> dict[str, float]:
    """n, median, mean and std of one sample (None where empty, so the JSON stays strict)."""
    if values.size == 0:
        return {"n": 0, "median": None, "mean": None, "std": None}
    return {
        "n": int(values.size),
        "median": float(np.median(values)),
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
    }


def separation(a: np.ndarray, b: np.ndarray) -> list[dict]:
    """For each statistic: A's and B's summaries and the two-sample KS statistic and p-value."""
    from scipy.stats import ks_2samp

    va, vb = separating_values(a), separating_values(b)
    rows = []
    for name, label in LABELS.items():
        row = {
            "statistic": name,
            "label": label,
            "a": summarise(va[name]),
            "b": summarise(vb[name]),
        }
        if va[name].size and vb[name].size:
            ks = ks_2samp(va[name], vb[name])
            row["ks"] = {"statistic": float(ks.statistic), "pvalue": float(ks.pvalue)}
        else:
            row["ks"] = {"statistic": None, "pvalue": None}
        rows.append(row)
    return rows
