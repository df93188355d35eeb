"""Models that start from another model's trained weights (a zoo file's `start_from`).

A chained model waits for the one it starts from, then trains from its model.pt; one whose
start failed, or is not part of this run and has no finished run, starts from scratch instead,
and says so. Where models wait on each other the order matters: the model with the longest chain
behind it goes first, so the chain's last member does not train alone at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pairzoo.zoo.training import Job, Trained, read_json, starting_from


class Chains:
    """Which of `jobs` may train now, and which each finished job releases."""

    def __init__(self, jobs: list[Job], parents: dict[str, str], say: Callable[[str], None]):
        self._jobs = {job.name: job for job in jobs}
        self._order = {job.name: i for i, job in enumerate(jobs)}
        self._parent = {n: p for n, p in parents.items() if p and n in self._jobs}
        self._say = say

    def roots(self) -> list[Job]:
        """The jobs that wait for no other job of this run, longest chain first."""
        roots = []
        for name, job in self._jobs.items():
            parent = self._parent.get(name)
            if parent is None:
                roots.append(job)
            elif parent not in self._jobs:  # e.g. `train-all --only` without the parent
                roots.append(self._outside(job, parent))
        return self.ranked(roots)

    def released(self, trained: Trained) -> list[Job]:
        """The jobs that waited for `trained`: from its weights, or from scratch if it failed."""
        parent = self._jobs[trained.name]
        children = [self._jobs[n] for n in self._children(trained.name)]
        if trained.error is None:
            return [starting_from(child, parent.out) for child in children]
        for child in children:
            self._say(f"{child.name}: {parent.name} did not finish; it starts from scratch")
        return children

    def ranked(self, jobs: list[Job]) -> list[Job]:
        """`jobs`, the one with the most models waiting behind it first, then in file order."""
        return sorted(jobs, key=lambda job: (-self._behind(job.name), self._order[job.name]))

    def _behind(self, name: str) -> int:
        children = self._children(name)
        return len(children) + sum(self._behind(n) for n in children)

    def _children(self, name: str) -> list[str]:
        return [n for n, p in self._parent.items() if p == name]

    def _outside(self, job: Job, parent: str) -> Job:
        run = job.out.parent / parent
        if finished_run(run):
            return starting_from(job, run)
        self._say(f"{job.name}: {parent} is not trained in {run.parent}; it starts from scratch")
        return job


def finished_run(run: Path) -> bool:
    return (run / "model.pt").is_file() and bool(
        read_json(run / "metrics.json", {}).get("finished")
    )
