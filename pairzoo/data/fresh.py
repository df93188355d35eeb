"""Fresh train pairs per epoch, made the way `data make` made the train split.

The train split's source pool is rebuilt from meta.json (source, seed, sizes), so fresh pairs
never use a digit image that val or the test splits were made from; the label rule, adjacent
share, severity and corruption are meta.json's too. Epoch e of a run with seed s gets the stream
(data seed, s, e): the same pairs on every resume.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pairzoo.data.corruption_params import corruption_from_raw
from pairzoo.data.format import SPLITS
from pairzoo.data.generate import Corruptor, PairMaker, partition_pools
from pairzoo.data.meta import META, read_meta
from pairzoo.data.sources import Source, load_source
from pairzoo.errors import DataError
from pairzoo.plugins import get_label_rule

__all__ = ["FreshPairs", "fresh_pairs", "missing_generator"]

_NEEDED = ("source", "seed", "sizes", "severity", "corruption", "rule", "adjacent")


def missing_generator(data_dir: str | os.PathLike) -> str | None:
    """Why `data_dir` cannot give fresh pairs (no meta.json, or keys missing); None if it can."""
    path = Path(data_dir) / META
    if not path.is_file():
        return f"{path}: not found (fresh pairs need data made by `pairzoo data make`)"
    meta = read_meta(data_dir)
    lacking = [k for k in _NEEDED if k not in meta]
    if lacking or not isinstance(meta.get("corruption"), dict):
        keys = ", ".join(lacking) or "corruption.params"
        return f"{path}: lacks the generator's settings ({keys}) that fresh pairs are made from"
    return None


@dataclass(frozen=True)
class FreshPairs:
    """Makes one epoch's train pairs: x uint8 (n, 28, 56), y int64 (n,), digits int64 (n, 2)."""

    data_seed: int
    pools: list[np.ndarray]  # the train split's source images, one index array per class
    source: Source
    rule: object
    corruptor: Corruptor
    adjacent: float

    def epoch(self, run_seed: int, epoch: int, n: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng([self.data_seed, run_seed, epoch])
        maker = PairMaker(self.source.images, self.rule, self.corruptor, self.adjacent)
        x, y, left, right = maker.draw(self.pools, n, rng)
        return x, y, np.stack([left, right], axis=1)


def fresh_pairs(data_dir: str | os.PathLike) -> FreshPairs:
    """The fresh-pair maker of generated data; DataError naming meta.json if it cannot be one."""
    why = missing_generator(data_dir)
    if why is not None:
        raise DataError(why)
    path = Path(data_dir) / META
    meta = read_meta(data_dir)
    sizes = {s: meta["sizes"][s] for s in SPLITS if s in meta["sizes"]}  # `data make`'s order
    if "train" not in sizes:
        raise DataError(f"{path}: key 'sizes' has no train split to make fresh pairs for")
    source = load_source(meta["source"])
    stream = np.random.default_rng(np.random.SeedSequence(int(meta["seed"])).spawn(1)[0])
    pools = partition_pools(source.labels, sizes, stream)["train"]
    expected = meta.get("source_pool_sizes", {}).get("train")
    if expected is not None and expected != sum(len(p) for p in pools):
        raise DataError(
            f"{path}: train source pool has {expected} images, source '{meta['source']}' now "
            f"gives {sum(len(p) for p in pools)} (the source changed since the data was made)"
        )
    severity = meta["severity"]
    severity = tuple(severity) if isinstance(severity, list) else float(severity)
    params = corruption_from_raw(meta["corruption"].get("params", {}), f"{path} corruption")
    return FreshPairs(
        int(meta["seed"]),
        pools,
        source,
        get_label_rule(meta["rule"]),
        Corruptor(severity, params),
        float(meta["adjacent"]),
    )
