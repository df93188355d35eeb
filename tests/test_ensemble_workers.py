"""The ensemble runs its members one per usable core by default, with the same logits as one
worker: the layout changes the speed, never the result."""

from __future__ import annotations

import numpy as np
import pytest
from ensemble_fixtures import make_pairs, register_tiny_models

from pairzoo.ensemble.members import load_members
from pairzoo.registry import Registry
from pairzoo.runtime import sessions
from pairzoo.runtime.logits import logit_matrix
from pairzoo.runtime.sessions import default_workers


@pytest.mark.parametrize(
    ("cores", "members", "threads", "expected"),
    [(2, 11, 1, 2), (16, 11, 1, 11), (16, 11, 4, 4), (2, 11, 2, 1), (2, 1, 1, 1), (1, 3, 1, 1)],
)
def test_one_member_per_usable_core(monkeypatch, cores, members, threads, expected):
    monkeypatch.setattr(sessions.os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert default_workers(members, threads) == expected


def test_concurrent_members_give_the_logits_of_one_worker(tmp_path, monkeypatch):
    reg = Registry(tmp_path / "registry")
    cards = register_tiny_models(reg, tmp_path, 3)
    members = load_members(reg, [f"{c['name']}@{c['version']}" for c in cards], 1, "never")
    x = make_pairs(300, seed=4)[0]
    monkeypatch.setattr(sessions.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert default_workers(len(members)) == 3
    alone = logit_matrix(members, x, 64, workers=1).logits
    together = logit_matrix(members, x, 64).logits
    np.testing.assert_array_equal(together, alone)
