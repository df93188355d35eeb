"""Hypothesis profiles for the fuzz tests, a hard per-example time limit, and a case count.

Profiles (env HYPOTHESIS_PROFILE or `pytest --hypothesis-profile NAME`):
- "default": a few examples per fuzz test, so `make test` stays quick; derandomized and without
  a per-example deadline, so the suite gives the same verdict on every run and machine load;
- "fuzz": `make fuzz`, enough examples for well over 10,000 cases in total, new ones each run
  (failures found are kept in .hypothesis/ and replayed first), with a per-example deadline.
In both, an example that hangs outright is stopped after HANG_LIMIT_S by an alarm, since a
deadline is only checked once an example returns.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

HANG_LIMIT_S = 30.0
_COMMON = {
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("default", max_examples=40, derandomize=True, deadline=None, **_COMMON)
settings.register_profile(
    "fuzz", max_examples=2500, deadline=timedelta(seconds=5), **_COMMON
)  # deadline generous: the machine may be shared
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_cases: Counter[str] = Counter()


class ExampleHung(AssertionError):
    """One generated example ran past HANG_LIMIT_S."""


def pytest_collection_modifyitems(config, items):
    # The slow files first: `make test` runs the files on two workers (pytest-xdist, a file per
    # worker at a time), and a long file that starts last would leave one worker idle at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None and not getattr(handle.inner_test, "_pairzoo_counted", False):
            handle.inner_test = _counted(handle.inner_test, item.nodeid)


def _counted(test, nodeid: str):
    @functools.wraps(test)
    def run(*args, **kwargs):
        _cases[nodeid] += 1
        if threading.current_thread() is not threading.main_thread():
            return test(*args, **kwargs)
        previous = signal.signal(signal.SIGALRM, _hung)
        signal.setitimer(signal.ITIMER_REAL, HANG_LIMIT_S)
        try:
            return test(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    run._pairzoo_counted = True
    return run


def _hung(signum, frame):
    raise ExampleHung(f"one example ran longer than {HANG_LIMIT_S:.0f} s (a hang)")


def pytest_terminal_summary(terminalreporter):
    if not _cases:
        return
    profile = settings.get_current_profile_name()
    terminalreporter.section("hypothesis cases")
    if profile == "fuzz":
        for nodeid, n in sorted(_cases.items()):
            terminalreporter.write_line(f"{n:8d}  {nodeid}")
    terminalreporter.write_line(
        f"hypothesis: {sum(_cases.values())} generated cases run by {len(_cases)} tests "
        f"(profile {profile})"
    )


@pytest.fixture(autouse=True, scope="session")
def _speed_cache_in_a_temporary_directory(tmp_path_factory):
    """int8/fp32 timings measured by tests never reach the user's cache directory."""
    if "PAIRZOO_CACHE_DIR" not in os.environ:
        os.environ["PAIRZOO_CACHE_DIR"] = str(tmp_path_factory.mktemp("speed-cache"))
    yield


@pytest.fixture
def fp32_training(monkeypatch):
    """CPU training in fp32, whatever precision this CPU would pick: for tests of exact numerical
    identities, which bf16 rounding (chosen where it is faster) would blur."""
    monkeypatch.setenv("PAIRZOO_CPU_BF16", "never")


@pytest.fixture
def one_thread():
    """torch on one thread during the test: for tiny models a second thread only adds contention
    on a shared machine (the zoo tests)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
