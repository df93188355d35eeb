"""Data-parallel training under torchrun: the world from its environment, the process group, the
collectives the trainer needs, and the DistributedDataParallel wrapper.

torchrun (``--nproc_per_node``, ``--nnodes``, ``--rdzv_*``) sets RANK, WORLD_SIZE, LOCAL_RANK and
LOCAL_WORLD_SIZE; a process launched without them trains alone, as before. The design:

- Data: every rank draws the same epoch order (same seed) and takes its own contiguous
  1/WORLD_SIZE of each global batch (`train.batch_size`, which must divide evenly); the schedule
  counts global steps, so N processes follow one process's schedule.
- Randomness: rank r seeds dropout and augmentation with seed + r (rank 0 = a lone process);
  last.pt keeps every rank's streams, so a resume with the same world size is exact.
- BatchNorm: per-rank batch statistics (DDP refuses SyncBatchNorm on CPU modules); running
  statistics are averaged over the ranks before every evaluation, so every rank holds the same
  model. PAIRZOO_SYNC_BN=1 converts to SyncBatchNorm on CUDA (`pairzoo.train.ddp`).
- Validation and test: each rank predicts a contiguous share, all gather every logit, so every
  rank computes the same metrics and takes the same early-stopping and plateau decisions.
- Run directory: rank 0 alone reads (the out-dir check, last.pt: other nodes need not share
  it) and writes; the others receive what it read. The config hash leaves the world size out,
  so a run may resume with another world size (new ranks then start fresh random streams, and
  the log says the results differ from an uninterrupted run).
- Failure: a rank that fails exits; torchrun stops the others, and the process group's timeout
  (PAIRZOO_DIST_TIMEOUT, 600 s) bounds any wait without it. Backend: nccl on CUDA, gloo on the
  CPU, or PAIRZOO_DIST_BACKEND / `--backend`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn

from pairzoo.errors import ConfigError, PairzooError

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig

BACKENDS = ("auto", "nccl", "gloo")
BACKEND_ENV = "PAIRZOO_DIST_BACKEND"
TIMEOUT_ENV = "PAIRZOO_DIST_TIMEOUT"  # seconds a collective may wait for a rank; default 600


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    local_size: int


def world_from_env(environ: Mapping[str, str] = os.environ) -> World | None:
    """The torchrun world of this process, or None when it was not launched by torchrun."""
    if "WORLD_SIZE" not in environ or "RANK" not in environ:
        return None
    values = {}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        text = environ.get(key, "0" if key == "LOCAL_RANK" else environ["WORLD_SIZE"])
        try:
            values[key] = int(text)
        except ValueError:
            raise ConfigError(
                f"environment variable {key}: expected an integer (torchrun sets it), found {text!r}"
            ) from None
    world = World(
        values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"], values["LOCAL_WORLD_SIZE"]
    )
    if not 0 <= world.rank < world.size:
        raise ConfigError(f"RANK {world.rank} is outside WORLD_SIZE {world.size}")
    return world


def check_config(cfg: RunConfig, world: World, n_train: int | None = None) -> None:
    """The global batch splits evenly over the ranks (and, once known, fits the train split)."""
    batch = cfg.train.batch_size
    if batch % world.size:
        raise ConfigError(
            f"train.batch_size {batch} is the global batch, split evenly over {world.size} "
            f"processes: expected a multiple of {world.size}, e.g. {batch - batch % world.size or world.size}"
        )
    if n_train is not None and n_train < batch:
        raise ConfigError(
            f"{cfg.data.path}: {n_train} train pairs are fewer than one global batch of {batch}; "
            "lower --batch-size for a data-parallel run"
        )


def pick_backend(cuda: bool, requested: str | None = None) -> str:
    """`requested`, else $PAIRZOO_DIST_BACKEND, else nccl on CUDA and gloo on the CPU."""
    name = (requested or os.environ.get(BACKEND_ENV) or "auto").lower()
    if name not in BACKENDS:
        raise ConfigError(
            f"distributed backend '{name}' (from --backend or ${BACKEND_ENV}): expected one of "
            f"{', '.join(BACKENDS)}"
        )
    if name == "auto":
        return "nccl" if cuda else "gloo"
    if name == "nccl" and not cuda:
        raise ConfigError("backend nccl needs CUDA devices; use --backend gloo for --device cpu")
    return name


def device_index(world: World, backend: str) -> int:
    """This rank's CUDA device: its local rank; gloo may share devices, NCCL may not."""
    count = torch.cuda.device_count()
    if world.local_rank < count:
        return world.local_rank
    if backend == "nccl":
        raise ConfigError(
            f"local rank {world.local_rank} has no CUDA device of its own ({count} visible); NCCL "
            f"needs one per process: lower --nproc_per_node, or share devices with --backend gloo"
        )
    return world.local_rank % count


def timeout_s() -> float:
    text = os.environ.get(TIMEOUT_ENV, "600")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"${TIMEOUT_ENV}: expected a positive number of seconds, found {text!r}")
    return value


class Group:
    """The collectives of one training run; every method is called by every rank in turn."""

    def __init__(self, world: World, backend: str, device: torch.device):
        self.world = world
        self.rank, self.size = world.rank, world.size
        self.backend = backend
        # NCCL needs device tensors; gloo's collectives are all available on the CPU.
        self.comm_device = device if backend == "nccl" else torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        t = tensor.to(self.comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.to(tensor.device)

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every rank's `tensor` (parts of unequal length along dim 0) concatenated in rank order."""
        t = tensor.to(self.comm_device)
        sizes = [
            torch.zeros(1, dtype=torch.long, device=self.comm_device) for _ in range(self.size)
        ]
        dist.all_gather(sizes, torch.tensor([t.shape[0]], device=self.comm_device))
        longest = int(max(s.item() for s in sizes))
        padded = torch.zeros((longest, *t.shape[1:]), dtype=t.dtype, device=self.comm_device)
        padded[: t.shape[0]] = t
        parts = [torch.empty_like(padded) for _ in range(self.size)]
        dist.all_gather(parts, padded)
        out = torch.cat([p[: int(s.item())] for p, s in zip(parts, sizes, strict=True)])
        return out.to(tensor.device)

    def from_main(self, fn: Callable[[], Any]) -> Any:
        """`fn()` run on rank 0 and its result (or its PairzooError, re-raised) given to every rank.

        Rank 0's view of the run directory is the truth: other nodes may not even share it.
        """
        box: list[Any] = [None]
        if self.main:
            try:
                box[0] = ("ok", fn())
            except PairzooError as exc:
                box[0] = ("error", type(exc), str(exc))
        dist.broadcast_object_list(box, src=0, device=self.comm_device)
        if box[0][0] == "error":
            raise box[0][1](box[0][2])
        return box[0][1]

    def check_same(self, value: str, what: str) -> None:
        """ConfigError on every rank unless all ranks hold the same `value` (a hash)."""
        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        if len(set(values)) > 1:
            found = ", ".join(f"rank {r}: {str(v)[:12]}" for r, v in enumerate(values))
            raise ConfigError(
                f"the {self.size} processes disagree on {what} ({found}); give every node the "
                "same data, plugins and options"
            )

    def gather_objects(self, obj: Any) -> list[Any] | None:
        """Every rank's `obj` in rank order on rank 0; None on the others."""
        out = [None] * self.size if self.main else None
        if self.comm_device.type == "cuda":
            torch.cuda.set_device(self.comm_device)
        dist.gather_object(obj, out, dst=0)
        return out

    def average_buffers(self, model: nn.Module) -> None:
        """Floating buffers (BatchNorm running statistics) averaged over the ranks, others rank 0's.

        Each rank's running mean follows its own shards; their average follows the global batch
        mean, as a single process's would. Afterwards every rank holds the same model.
        """
        for buf in model.buffers():
            t = buf.detach().to(self.comm_device)
            if buf.is_floating_point():
                dist.all_reduce(t, op=dist.ReduceOp.SUM)
                t /= self.size
            else:
                dist.broadcast(t, src=0)
            buf.data.copy_(t.to(buf.device))


@contextlib.contextmanager
def process_group(world: World, backend: str, device: torch.device) -> Iterator[Group]:
    """Join torchrun's process group for a run (unless the caller already has); leave it after.

    The timeout ($PAIRZOO_DIST_TIMEOUT) bounds how long a rank waits for one that failed.
    """
    own = not dist.is_initialized()
    if own:
        kwargs = {"device_id": device} if backend == "nccl" else {}
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s()), **kwargs)
    try:
        yield Group(world, dist.get_backend(), device)
    finally:
        if own and dist.is_initialized():
            dist.destroy_process_group()


def threads_per_process(threads: int, world: World) -> int:
    """The configured threads, or (0) this machine's cores shared by its local processes."""
    if threads > 0:
        return threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, world.local_size))
