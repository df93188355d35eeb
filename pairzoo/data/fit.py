"""Fit the generator's corruption to real pairs: a coordinate search scored by a classifier.

The parameters are tried one at a time, in the order of how much they were found to matter.
Each is multiplied by a few factors around its current value; generated halves (random source
digits through `corrupt`) are scored against the real halves with the classifier two-sample
test (accuracy 0.5: indistinguishable), the stronger of its detectors (CNN on the pixels,
gradient boosting on per-image statistics) counting. A move is kept only if that accuracy,
averaged over a few seeds, drops by at least `min_drop` (more than the test's noise) and every SEED_SUMMARY
statistic of the generated halves stays within `tolerance` of the real halves' own; after a
kept move the same factor is tried again. Every figure is seeded: equal inputs, equal result.
"""

from __future__ import annotations

import copy
import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.corruption import corrupt
from pairzoo.data.corruption_params import CorruptionFile, load_corruption
from pairzoo.data.corruption_writer import corruption_text
from pairzoo.data.feature_importance import importance_section
from pairzoo.data.generate import pick_from_pools
from pairzoo.data.rules import sample_different
from pairzoo.data.stats import compare, image_stats
from pairzoo.data.two_sample import draw_subset, two_sample_test
from pairzoo.errors import ConfigError

__all__ = [
    "DEFAULT_KNOBS",
    "PARAMETERS",
    "Evaluation",
    "FitResult",
    "Knobs",
    "SourceDigits",
    "fit_corruption",
    "fitted_text",
    "scaled_raw",
    "what_tells_apart",
]

# In order of how much each moved the classifier on the original task's pairs.
PARAMETERS = (
    "affine.shift_px",
    "affine.rotation_deg",
    "affine.elastic_alpha",
    "intensity.noise_blur",
    "affine.scale",
    "intensity.blur_sigma",
    "rects[0].size",
    "rects[0].angle_deg",  # occlusion shape: rotated rectangles, unions of them irregular
    "rects[1].angle_deg",
    "intensity.noise_std",  # with noise_blur, the noise's texture (its lag-1 correlation)
    "rects[0].centre",  # where occlusions fall: the zeros on the border
    "rects[1].centre",
    "rects[0].extra",  # how many large rectangles may join the first: unions of them
    "rects[1].probability",  # how many small ones: fewer leave the largest blob more compact
    "rects[2].probability",  # how often a third group (if any) occludes: the shipped file's
)  # rare large rectangle over the middle, which hides the whole digit
_ANGLE_START = 10.0  # degrees an angle of 0 moves to at factor 1


@dataclass(frozen=True)
class Knobs:
    """How hard each evaluation looks; smaller is faster and noisier."""

    per_side: int = 4000  # digit images per side (at most the real ones)
    epochs: int = 8  # of the two-sample CNN
    folds: int = 2
    seeds: int = 2  # evaluations averaged per candidate
    detectors: tuple[str, ...] = ("cnn", "features")  # the stronger one's accuracy counts
    factors: tuple[float, ...] = (0.7, 1.4)
    min_drop: float = 0.01  # accuracy drop a move needs to be kept
    tolerance: float = 0.10  # largest relative SEED_SUMMARY difference from the real halves


DEFAULT_KNOBS = Knobs()


@dataclass(frozen=True)
class SourceDigits:
    """The digits the search corrupts, and how it draws them: with `labels` and `adjacent`, by
    the pair prior of `data make` (a share `adjacent` of pairs differ by one, so 0 and 9 come
    half as often), as a pair task's real digits are; without, uniformly."""

    images: np.ndarray  # uint8 (M, 28, 28)
    labels: np.ndarray | None = None  # int64 (M,) in 0..9
    adjacent: float | None = None

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.labels is None or self.adjacent is None:
            return self.images[rng.integers(len(self.images), size=n)]
        low, high = sample_different(rng, (n + 1) // 2, self.adjacent)
        classes = np.concatenate([low, high])[:n]
        return self.images[pick_from_pools(self._pools, classes, rng)]

    @functools.cached_property
    def _pools(self) -> list[np.ndarray]:
        """Each class's image indices, found once for every draw of the search."""
        return [np.flatnonzero(self.labels == c) for c in range(10)]


@dataclass(frozen=True)
class Evaluation:
    parameter: str  # "start" for the starting file
    value: Any
    accuracy: float  # mean over the seeds
    worst_stat: tuple[str, float]  # the SEED_SUMMARY figure furthest from the real one
    kept: bool


@dataclass
class FitResult:
    raw: dict[str, Any]  # the fitted corruption file's content
    start_accuracy: float
    accuracy: float
    evaluations: list[Evaluation] = field(default_factory=list)


def fit_corruption(
    real: np.ndarray,
    start: CorruptionFile,
    source: np.ndarray | SourceDigits,
    *,
    seed: int = 0,
    budget: int = 24,
    knobs: Knobs = DEFAULT_KNOBS,
    report: Callable[[Evaluation], None] = lambda e: None,
) -> FitResult:
    """Search from `start` for the corruption whose halves of `source` digits best pass for the
    uint8 `real` halves (M, 28, 28); at most `budget` evaluations, the start's included. `source`
    is SourceDigits, or bare images drawn uniformly."""
    real_stats = image_stats(real)
    score = _scorer(real, real_stats, _as_source(source), seed, knobs)
    raw = copy.deepcopy(start.raw)
    accuracy, worst = score(start.params)
    result = FitResult(raw, accuracy, accuracy)
    _record(result, Evaluation("start", None, accuracy, worst, True), report)
    kept_worst = abs(worst[1])
    for name in PARAMETERS:
        for factor in knobs.factors:
            moved = False
            while len(result.evaluations) < budget:
                candidate = _candidate(result.raw, name, factor)
                if candidate is None:
                    break
                accuracy, worst = score(candidate[1].params)
                # Within tolerance, or (where the start is already outside it) no further off.
                kept = accuracy <= result.accuracy - knobs.min_drop and abs(worst[1]) <= max(
                    knobs.tolerance, kept_worst
                )
                _record(
                    result,
                    Evaluation(name, _get(candidate[0], name), accuracy, worst, kept),
                    report,
                )
                if not kept:
                    break
                result.raw, result.accuracy, moved = candidate[0], accuracy, True
                kept_worst = abs(worst[1])
            else:
                return result
            if moved:  # the other factors go back the way that was just left
                break
    return result


def what_tells_apart(
    real: np.ndarray, raw: dict, source: np.ndarray | SourceDigits, *, seed: int, per_side: int
) -> dict:
    """What still tells `real` from halves made with the corruption `raw`, drawn as the search's
    first seed draws them: the features detector's importance section of `data compare`."""
    n = min(len(real), per_side)
    rng = np.random.default_rng([seed, 0])
    halves = corrupt(_as_source(source).draw(rng, n), rng, 6.0, _load(raw).params)
    picked = draw_subset(real, n, np.random.default_rng(seed))
    return importance_section(np.concatenate([picked, halves]), n, seed=seed)


def _as_source(source: np.ndarray | SourceDigits) -> SourceDigits:
    return source if isinstance(source, SourceDigits) else SourceDigits(np.asarray(source))


def _record(result: FitResult, evaluation: Evaluation, report) -> None:
    result.evaluations.append(evaluation)
    report(evaluation)


def _scorer(real, real_stats, source, seed, knobs):
    n = min(len(real), knobs.per_side)

    def score(params) -> tuple[float, tuple[str, float]]:
        accuracies = {name: [] for name in knobs.detectors}
        generated = []
        for k in range(knobs.seeds):
            # The same draws for every candidate (common random numbers): only the
            # parameters differ between two candidates' halves.
            rng = np.random.default_rng([seed, k])
            halves = corrupt(source.draw(rng, n), rng, 6.0, params)
            generated.append(halves)
            for name in knobs.detectors:
                result = two_sample_test(
                    real,
                    halves,
                    seed=seed * 1000 + k,
                    max_per_side=n,
                    folds=knobs.folds,
                    epochs=knobs.epochs,
                    detector=name,
                )
                accuracies[name].append(result.accuracy)
        rows = compare(image_stats(np.concatenate(generated)), reference=real_stats)
        stat, key, *_, rel = max(rows, key=lambda row: abs(row[4]))
        stronger = max(float(np.mean(a)) for a in accuracies.values())
        return stronger, (f"{stat}.{key}", float(rel))

    return score


def _candidate(raw: dict, name: str, factor: float) -> tuple[dict, CorruptionFile] | None:
    """`raw` with parameter `name` scaled by `factor`, checked by the loader; None where the
    parameter is absent, does not change, or the scaled value is out of the loader's range."""
    if _get(raw, name) is None:
        return None
    changed = scaled_raw(raw, name, factor)
    if _get(changed, name) == _get(raw, name):
        return None
    try:
        return changed, _load(changed)
    except ConfigError:
        return None


def _load(raw: dict) -> CorruptionFile:
    return _check(corruption_text(raw, []))


def scaled_raw(raw: dict, name: str, factor: float) -> dict:
    """A copy of `raw` with parameter `name` (one of PARAMETERS) multiplied by `factor`: a zoom
    range's distance from 1, an occlusion centre range's distance from the middle, every blur
    sigma, a rectangle size range's both ends, a count of rectangles rounded to a whole one; an
    occlusion angle of 0 starts from _ANGLE_START degrees."""
    out = copy.deepcopy(raw)
    table, key = _locate(out, name)
    value = table[key]
    if name == "affine.scale":
        table[key] = [
            _round(1.0 - (1.0 - value[0]) * factor),
            _round(1.0 + (value[1] - 1.0) * factor),
        ]
    elif name == "rects[0].size":
        table[key] = [min(28, max(1, round(v * factor))) for v in value]
    elif key == "extra":  # a count of rectangles: a whole number
        table[key] = max(0, round(value * factor))
    elif key == "angle_deg":
        table[key] = min(90.0, _round((value or _ANGLE_START) * factor))
    elif key == "centre":  # the range's distance from the middle, inside [0, 1]
        table[key] = [
            max(0.0, _round(0.5 - (0.5 - value[0]) * factor)),
            min(1.0, _round(0.5 + (value[1] - 0.5) * factor)),
        ]
    elif isinstance(value, list):
        table[key] = [_round(v * factor) for v in value]
    else:
        table[key] = _round(value * factor)
    return out


def _round(value: float) -> float:
    """4 significant digits, as the file is written: the file holds what was scored."""
    return float(f"{value:.4g}")


def _locate(raw: dict, name: str) -> tuple[dict, str]:
    head, key = name.split(".")
    if head.endswith("]"):
        group, index = head[:-1].split("[")
        return raw[group][int(index)], key
    return raw[head], key


def _get(raw: dict, name: str):
    try:
        table, key = _locate(raw, name)
        return table[key]
    except (KeyError, IndexError):
        return None


def fitted_text(result: FitResult, real_path: str, real_sha256: str, seed: int) -> str:
    """The fitted corruption file's text, its header naming the real pairs and the accuracy."""
    header = [
        "Corruption of each 28x28 digit image at severity 6, fitted by `pairzoo data fit`",
        f"against {real_path} (sha256 {real_sha256}), seed {seed}:",
        f"classifier two-sample accuracy {result.accuracy:.1%} (start {result.start_accuracy:.1%}),"
        f" {len(result.evaluations)} evaluations.",
        "Other severities scale these figures (see pairzoo/data/corruption_params.py).",
    ]
    text = corruption_text(result.raw, header)
    _check(text)
    return text


def _check(text: str) -> CorruptionFile:
    """`text` read back by the loader (ConfigError where it would not take it)."""
    with tempfile.TemporaryDirectory(prefix="pairzoo-fit-") as tmp:
        path = Path(tmp) / "fitted.toml"
        path.write_text(text, encoding="utf-8")
        return load_corruption(path)
