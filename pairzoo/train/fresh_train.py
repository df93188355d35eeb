"""The train split of a run with ``train.pairs`` fresh: new pairs each epoch, the next epoch's
made in a background thread while the current one trains (numpy and scipy's image filters
release the GIL for most of the work)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pairzoo.data.fresh import fresh_pairs, missing_generator
from pairzoo.errors import ConfigError, DataError
from pairzoo.train.batches import DeviceSplit
from pairzoo.train.runconfig import RunConfig

__all__ = ["FreshTrain", "choose_pairs"]


def choose_pairs(cfg: RunConfig, teacher: bool) -> tuple[bool, str | None]:
    """(fresh?, a line for the run log or None) for the config's ``train.pairs``; ConfigError
    or DataError where fresh was asked for and cannot be had."""
    mode = cfg.train.pairs
    if mode == "fixed":
        return False, None
    if teacher:
        if mode == "fresh":
            raise ConfigError(
                "train.pairs = 'fresh' cannot follow a teacher: its logits exist for the pairs "
                "of train.npz only; use train.pairs = 'fixed' (or 'auto') for distillation"
            )
        return False, "pairs: fixed (auto: a teacher's logits exist for train.npz's pairs only)"
    why = missing_generator(cfg.data.path)
    if why is None:
        return True, None
    if mode == "fresh":
        raise DataError(f"train.pairs = 'fresh': {why}")
    return False, f"pairs: fixed (auto: {why})"


class FreshTrain:
    """One epoch's DeviceSplit at a time; epoch e's pairs depend only on the data and run seeds."""

    def __init__(self, cfg: RunConfig, n: int, device):
        self.maker = fresh_pairs(Path(cfg.data.path))
        self.seed, self.n, self.device, self.epochs = cfg.seed, n, device, cfg.train.epochs
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fresh-pairs")
        self.ahead: dict[int, Future] = {}

    def split(self, epoch: int) -> DeviceSplit:
        """Epoch `epoch`'s pairs (1-based); starts making the next epoch's."""
        future = self.ahead.pop(epoch, None)
        x, y, digits = future.result() if future else self.maker.epoch(self.seed, epoch, self.n)
        if epoch < self.epochs and epoch + 1 not in self.ahead:
            self.ahead[epoch + 1] = self.pool.submit(self.maker.epoch, self.seed, epoch + 1, self.n)
        return DeviceSplit.from_arrays(x, y, digits, self.device)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
