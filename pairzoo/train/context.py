"""One training run as the trainer carries it: what to learn (the typed config and its hash),
where (run directory, runtime, data-parallel group), its log, and what the caller asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pairzoo.train.runconfig import RunConfig
from pairzoo.train.runlog import NullLog, RunLog

if TYPE_CHECKING:
    from pairzoo.train.device import Runtime
    from pairzoo.train.distributed import Group


@dataclass(frozen=True)
class RunOptions:
    """How the caller wants the run done; none of it is hashed."""

    resume: bool = False
    progress: bool = True
    on_epoch: Callable[[dict], None] | None = None  # each history row as it is written
    teacher_logits: Any = None  # float32, one per train pair, for a loss that needs_teacher
    backend: str | None = None  # data-parallel collectives (see pairzoo.train.distributed)


@dataclass
class RunContext:
    """Built once per run by `train_run`, then handed whole to each step; `log` is set once the
    session knows which epoch the run resumes after."""

    config: RunConfig
    hash: str
    out: Path
    runtime: Runtime
    options: RunOptions
    group: Group | None = None
    log: RunLog | NullLog = field(default_factory=NullLog)

    @property
    def main(self) -> bool:
        """Whether this process writes the run directory (rank 0, or a lone process)."""
        return self.group is None or self.group.main

    @property
    def rank(self) -> int:
        return 0 if self.group is None else self.group.rank

    @property
    def world_size(self) -> int:
        return 1 if self.group is None else self.group.size

    @property
    def progress(self) -> bool:
        """Progress bars and echoed lines: only where the run is written."""
        return self.options.progress and self.main
