"""Four exports into one registry at once, while an ensemble evaluation reads (and registers into)
the same registry: every export lands with its own version, verify is clean, and the evaluation
gives what it gives when it runs alone."""

import json

import pytest
from click.testing import CliRunner
from crash_fixtures import finish, start, temp_files
from ensemble_fixtures import make_data_dir, register_tiny_models
from export_fixtures import shared_run

from pairzoo.cli import main
from pairzoo.registry import Registry

pytestmark = pytest.mark.slow

MEMBERS = "tiny0,tiny1,tiny2"
# Timings (the runtimes the first run measured and the second read from the cache), dates, entry.
VOLATILE = {"throughput", "entry", "created", "latency_us_per_pair", "pairs_per_s", "cached"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return [shared_run(tmp_path_factory, "baseline", seed=s) for s in range(4)]


def _eval_args(reg, data, out):
    return [
        "eval", "--ensemble", "--registry", str(reg.root), "--data", str(data),
        "--models", MEMBERS, "--trees", "30", "--threads", "1", "--name", "stack",
        "--out", str(out),
    ]  # fmt: skip


def _stable(report_path):
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        return [strip(v) for v in value] if isinstance(value, list) else value

    report = strip(json.loads(report_path.read_text()))
    assert report["leaderboard"] and report["members"]
    return report


def test_four_exports_and_an_ensemble_evaluation_at_once(runs, tmp_path):
    reg = Registry(tmp_path / "reg")
    register_tiny_models(reg, tmp_path, 3)
    data = make_data_dir(tmp_path / "data")
    alone = CliRunner().invoke(main, _eval_args(reg, data, tmp_path / "alone"))
    assert alone.exit_code == 0, alone.output

    logs = [tmp_path / f"p{i}.log" for i in range(5)]
    procs = [
        start(["export", str(run), "--registry", str(reg.root), "--name", f"run{i}"], log=logs[i])
        for i, run in enumerate(runs)
    ]
    procs.append(start(_eval_args(reg, data, tmp_path / "together"), log=logs[4]))
    codes = [finish(p) for p in procs]
    assert codes == [0] * 5, [log.read_text()[-2000:] for log in logs]

    cards = reg.list()
    rows = [(c["name"], c["version"]) for c in cards]
    assert len(set(rows)) == len(rows)
    exported = {c["name"]: c for c in cards if c["name"].startswith("run")}
    assert sorted(exported) == ["run0", "run1", "run2", "run3"]
    assert {c["source"]["run_dir"] for c in exported.values()} == {str(r.resolve()) for r in runs}
    assert [v for n, v in rows if n == "stack"] == [1, 2]
    report = reg.verify()
    assert report.ok, report.problems
    assert temp_files(reg.root) == []
    assert _stable(tmp_path / "together" / "report.json") == _stable(
        tmp_path / "alone" / "report.json"
    )
