"""Progress of a zoo run: one overall bar and one bar per model being trained (epochs)."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """tqdm bars on stderr: the zoo's steps at position 0, running models below it.

    The trainer draws its own per-epoch (batch) bar when a model trains in this process.
    """

    def __init__(self, total: int, enabled: bool):
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self.enabled = enabled
        self.overall = self._bar(total=total, desc="zoo", position=0, unit="step")
        self.models: dict[str, tuple[Any, int]] = {}  # name -> (bar, position)

    def _bar(self, **kwargs):
        return self._tqdm(disable=not self.enabled, file=sys.stderr, dynamic_ncols=True, **kwargs)

    def start_model(self, name: str, epochs: int, done: int = 0) -> None:
        used = {slot for _, slot in self.models.values()}
        slot = next(i for i in range(1, len(self.models) + 2) if i not in used)
        bar = self._bar(
            total=epochs, initial=done, desc=name, position=slot, leave=False, unit="epoch"
        )
        self.models[name] = (bar, slot)

    def epoch(self, name: str, row: dict[str, Any]) -> None:
        bar, _ = self.models.get(name, (None, 0))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val=f"{row['val_accuracy']:.3f}")

    def end_model(self, name: str) -> None:
        bar, _ = self.models.pop(name, (None, 0))
        if bar is not None:
            bar.close()

    def step(self, desc: str) -> None:
        self.overall.set_description(desc)
        self.overall.update(1)

    def write(self, message: str) -> None:
        self._tqdm.write(message, file=sys.stderr)

    def close(self) -> None:
        for name in list(self.models):
            self.end_model(name)
        self.overall.close()
