"""`pairzoo export` killed (or failing) in the middle of registering leaves no half entry: the
catalogue lists only whole entries, `registry verify` names only leftovers a retry clears, and
exporting again gives a consistent catalogue."""

import errno
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner
from crash_fixtures import RECOVERABLE, fail_io, finish, kill, start, temp_files, wait_for
from export_fixtures import shared_run
from registry_fixtures import register_tiny

from pairzoo.cli import main
from pairzoo.registry import Registry

pytestmark = pytest.mark.slow

SEED = 20261128
NAME = "crashy"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_run(tmp_path_factory, "baseline")


def _registry(path):
    """A registry that already holds one entry (its catalogue exists before the crashes)."""
    path.mkdir(exist_ok=True)
    reg = Registry(path / "reg")
    register_tiny(reg, path)
    return reg


_CLI_LOCK = threading.Lock()  # CliRunner swaps sys.stdout for the whole process


def _cli(*args):
    with _CLI_LOCK:
        return CliRunner().invoke(main, [str(a) for a in args])


def _listed(reg):
    result = _cli("registry", "ls", "--registry", reg.root, "--json")
    assert result.exit_code == 0, result.output
    return [(row["name"], row["version"]) for row in json.loads(result.output)]


def _check_after_crash(reg, what):
    """No half entry is listed; verify names only recoverable leftovers. Returns a report line."""
    listed = _listed(reg)  # every listed card and file hash-checks, or this raises
    for card in reg.list():
        reg.check_files(card)
    problems = reg.verify().problems
    assert {p.kind for p in problems} <= RECOVERABLE, problems
    assert all(p.path.startswith(str(reg.root)) and p.detail for p in problems)
    leftovers = sorted({p.kind for p in problems}) or ["none"]
    return f"{what}: listed {listed}, leftovers {', '.join(leftovers)}"


def _export_killed(run, reg, spec, delay=None):
    """Kill an export at `spec`, or `delay` s after it makes its scratch dir; True if killed."""
    args = ["export", str(run), "--registry", str(reg.root), "--name", NAME]
    scratch = reg.root.parent / "scratch"
    env = {"TMPDIR": str(scratch)}  # where the export writes its ONNX file
    if delay is None:
        proc = start(args, die_at=spec, env=env)
        assert finish(proc) == -9, f"the export never reached {spec}"
        return True
    before = set(scratch.iterdir())
    proc = start(args, env=env)
    wait_for(lambda: set(scratch.iterdir()) - before, proc)  # ONNX export and parity begin
    time.sleep(delay)
    return kill(proc)


def _chain(run, reg, points):
    """Each kill in turn; a whole entry is listed only once the catalogue update has landed."""
    hits = []
    for spec, delay in points:
        before = _listed(reg)
        killed = _export_killed(run, reg, spec, delay)
        what = spec or f"random, {delay:.2f} s into the export" + ("" if killed else " (finished)")
        hits.append(_check_after_crash(reg, what))
        new = [row for row in _listed(reg) if row not in before]
        assert all(n == NAME for n, _ in new), (what, new)
        if spec is None:  # a random kill may come after the catalogue update, rarely
            assert len(new) == 1 if not killed else len(new) <= 1, (what, new)
        else:
            assert len(new) == spec.startswith("after:replace:*/catalogue.json"), (what, new)
    return hits


def test_killed_exports_leave_no_half_entry_and_a_retry_cleans_up(run, tmp_path, monkeypatch):
    delays = np.random.default_rng(SEED).uniform(0.0, 1.0, size=2)
    a, b = _registry(tmp_path / "a"), _registry(tmp_path / "b")
    for reg in (a, b):
        (reg.root.parent / "scratch").mkdir()
    chains = {
        a: [  # at random, before and while the staging dir is written
            (None, float(delays[0])),
            ("after:copy:*/.staging/*:1", None),
            (f"before:rename:*/{NAME}/*:1", None),
        ],
        b: [  # at random, after the entry dir is in place, around the catalogue update
            (None, float(delays[1])),
            (f"after:rename:*/{NAME}/*:1", None),
            ("before:replace:*/catalogue.json:1", None),
            ("after:replace:*/catalogue.json:1", None),
        ],
    }
    with ThreadPoolExecutor(2) as pool:
        hits = [
            h
            for f in [pool.submit(_chain, run, r, p) for r, p in chains.items()]
            for h in f.result()
        ]
    print("\n".join(["export kill points hit:", *hits]))

    for reg in (a, b):
        scratch = reg.root.parent / "scratch"
        assert list(scratch.glob("pairzoo-export-*"))  # the killed exports left their ONNX files
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
        result = _cli("export", run, "--registry", reg.root, "--name", NAME)
        monkeypatch.undo()
        assert result.exit_code == 0, result.output
        # the killed exports' scratch dirs are gone too
        assert not list(scratch.glob("pairzoo-export-*"))
        report = reg.verify()
        assert report.ok, report.problems
        assert temp_files(reg.root) == []
        rows = _listed(reg)
        assert len(rows) == len(set(rows))
        cat = json.loads((reg.root / "catalogue.json").read_text())
        retired = {r["version"] for r in cat["retired"] if r["name"] == NAME}
        versions = [v for n, v in rows if n == NAME]
        assert not retired & set(versions)  # a number is never handed out twice
        assert versions == sorted(versions) and versions[-1] > max(retired, default=0)


@pytest.mark.parametrize(
    ("op", "pattern", "code"),
    [
        ("rename", f"*/{NAME}/*", errno.EIO),  # the staging dir moved into place
        ("replace", "*/catalogue.json", errno.EIO),  # the catalogue update
    ],
    ids=["entry-rename", "catalogue-replace"],
)
def test_export_failing_mid_write_changes_nothing_visible(
    run, tmp_path, monkeypatch, op, pattern, code
):
    reg = _registry(tmp_path)
    before = (reg.root / "catalogue.json").read_bytes()
    failed = fail_io(monkeypatch, code, op, pattern)
    result = _cli("export", run, "--registry", reg.root, "--name", NAME)
    monkeypatch.undo()
    assert failed and result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert f"could not register '{NAME}'" in result.output and os.strerror(code) in result.output
    assert (reg.root / "catalogue.json").read_bytes() == before
    assert _listed(reg) == [("tiny", 1)]
    assert temp_files(reg.root) == []
    problems = reg.verify().problems  # the entry dir of a failed catalogue update, if any
    assert [p.kind for p in problems] in ([], ["orphaned"])

    again = _cli("export", run, "--registry", reg.root, "--name", NAME)
    assert again.exit_code == 0, again.output
    assert reg.verify().ok and temp_files(reg.root) == []
    assert [n for n, _ in _listed(reg)] == ["crashy", "tiny"]
