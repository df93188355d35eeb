"""pairzoo tune: a study of real (tiny) trials, pruning, the best run exported, resuming, errors."""

import json

import pytest
from click.testing import CliRunner
from export_fixtures import EXPORT_PLUGINS
from train_fixtures import PLUGINS_DIR, make_data

from pairzoo.cli import main
from pairzoo.plugins import load_plugins


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("tune-data") / "data")


@pytest.fixture(autouse=True)
def builtin_plugins_afterwards():
    yield
    load_plugins(None)


def tune(*args, plugins=PLUGINS_DIR, arch="tinypair", loss="tinybce"):
    base = ["--arch", arch, "--loss", loss, "--plugins-dir", str(plugins), "--threads", "1"]
    base += ["--batch-size", "32", "--quiet"]
    return CliRunner().invoke(main, ["tune", *base, *map(str, args)])


def study_json(out):
    return json.loads((out / "study.json").read_text())


def test_study_exports_its_best_and_resumes_without_retraining(data, tmp_path):

    out, url = tmp_path / "runs" / "s", f"sqlite:///{tmp_path}/tune.db"
    args = ["--data", data, "--out", out, "--storage", url, "--epochs", 2, "--pruner", "none"]
    first = tune(*args, "--trials", 4, plugins=EXPORT_PLUGINS, arch="exp_tiny", loss="bce")
    assert first.exit_code == 0, first.output
    summary = study_json(out)
    assert [(t["number"], t["state"]) for t in summary["trials"]] == [
        (n, "COMPLETE") for n in range(4)
    ]
    # trial 0 trains the base config; the space came from exp_tiny's and bce's parameters
    assert summary["trials"][0]["params"] == {
        "train.lr": 1e-3,
        "train.weight_decay": 5e-4,
        "arch.width": 4,
        "loss.label_smoothing": 0.0,
    }
    values = [t["value"] for t in summary["trials"]]
    best = summary["best"]
    assert best["value"] == max(values) and best["run_dir"] == "best"
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["finished"] and metrics["val"]["accuracy"] == best["value"]
    assert metrics["name"] == "s" and "best: trial" in first.output

    exported = CliRunner().invoke(
        main,
        [
            "export",
            str(out / "best"),
            "--registry",
            str(tmp_path / "reg"),
            "--plugins-dir",
            EXPORT_PLUGINS,
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "registered s@1" in exported.output

    # a process killed mid-trial leaves its trial RUNNING: FAIL once its heartbeat is stale,
    # ignored before that; neither counts, and finished trials are never trained again
    stale, fresh = _killed_trials(url, "s")
    trained = {p: p.stat().st_mtime_ns for p in out.glob("trials/*/model.pt")}
    again = tune(*args, "--trials", 6, plugins=EXPORT_PLUGINS, arch="exp_tiny", loss="bce")
    assert again.exit_code == 0, again.output
    states = {t["number"]: t["state"] for t in study_json(out)["trials"]}
    assert states == {
        **dict.fromkeys(range(4), "COMPLETE"),
        stale: "FAIL",
        fresh: "RUNNING",
        6: "COMPLETE",
        7: "COMPLETE",
    }
    assert sorted(p.name for p in (out / "trials").iterdir()) == [
        f"trial-{n:04d}" for n in (0, 1, 2, 3, 6, 7)
    ]
    assert {p: p.stat().st_mtime_ns for p in trained} == trained
    assert "2 run now" in again.output

    done = tune(*args, "--trials", 6, plugins=EXPORT_PLUGINS, arch="exp_tiny", loss="bce")
    assert done.exit_code == 0 and "0 run now" in done.output

    other = tune(
        *args, "--trials", 6, "--lr", 0.01, plugins=EXPORT_PLUGINS, arch="exp_tiny", loss="bce"
    )
    assert other.exit_code == 1 and "different base config" in other.output


def _killed_trials(url, name):
    """Two RUNNING trials as a killed process leaves them: one heartbeat long ago, one just now."""
    import sqlite3
    import warnings

    import optuna

    from pairzoo.tune.study import open_storage

    study = optuna.load_study(study_name=name, storage=open_storage(url))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # heartbeats are meant for optimize()
        stale, fresh = study.ask(), study.ask()
    for trial in (stale, fresh):
        study._storage.record_heartbeat(trial._trial_id)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute(
            "UPDATE trial_heartbeats SET heartbeat = '2000-01-01 00:00:00' WHERE trial_id = ?",
            (stale._trial_id,),
        )
    return stale.number, fresh.number


def test_pruner_stops_trials_that_lag(data, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("derived = false\n[train.lr]\nchoices = [0.03, 1e-7, 2e-7, 3e-7]\n")
    out = tmp_path / "p"
    args = ["--data", data, "--out", out, "--trials", 4, "--epochs", 3, "--lr", 0.03]
    result = tune(*args, "--space", space, "--pruner", "halving", "--seed", 3)
    assert result.exit_code == 0, result.output
    trials = study_json(out)["trials"]
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    assert pruned and trials[0]["state"] == "COMPLETE"
    for t in pruned:  # stopped after its first epoch, its run left resumable and unfinished
        run = out / t["run_dir"]
        assert t["epochs"] == 1 and (run / "last.pt").exists()
        assert json.loads((run / "metrics.json").read_text())["finished"] is False
    assert study_json(out)["best"]["state"] == "COMPLETE"


def test_in_memory_study_writes_summary_and_cannot_resume(data, tmp_path):
    out = tmp_path / "m"
    args = ["--data", data, "--out", out, "--trials", 2, "--epochs", 1]
    first = tune(*args)
    assert first.exit_code == 0, first.output
    summary = study_json(out)
    assert summary["storage"] is None and summary["counted"] == 2
    assert (out / "best" / "model.pt").exists()
    second = tune(*args)
    assert second.exit_code == 1 and "cannot be resumed" in second.output


def test_derived_space_follows_registered_parameters():
    from pairzoo.plugins import catalog
    from pairzoo.train.config import default_config
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.tune.space import derive_space

    def space(arch, loss, **train):
        cat = catalog()
        cfg = default_config()
        cfg.update(arch=arch, loss=loss)
        cfg["arch_params"] = dict(cat.architectures[arch].params)
        cfg["loss_params"] = dict(cat.losses[loss].params)
        cfg["train"].update(train)
        return {d.key: d for d in derive_space(RunConfig.from_dict(cfg), cat)}

    dims = space("resnet", "focal")
    assert sorted(dims) == [
        "arch.heads",
        "arch.width_mult",
        "loss.alpha",
        "loss.gamma",
        "loss.label_smoothing",
        "train.lr",
        "train.weight_decay",
    ]
    assert (dims["train.lr"].low, dims["train.lr"].high, dims["train.lr"].log) == (1e-4, 1e-2, True)
    assert (dims["arch.width_mult"].low, dims["arch.width_mult"].high) == (0.5, 2.0)
    # resnet is antisymmetric: head sets without an order-aware head would be refused.
    assert dims["arch.heads"].labels() == [
        "concat",
        "diff,concat",
        "concat,product",
        "diff,concat,product",
    ]
    assert (dims["loss.gamma"].low, dims["loss.gamma"].high) == (1.0, 4.0)
    assert len(space("improved_v2", "bce")["arch.heads"].choices) == 11  # singles and prefixes
    assert "loss.label_smoothing" not in space("resnet", "bce", label_smoothing=0.1)


def test_only_declared_ranges_are_searched_whatever_the_name(tmp_path):
    from pairzoo.plugins import catalog
    from pairzoo.train.config import default_config
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.tune.space import derive_space

    (tmp_path / "tun.py").write_text(
        "from pairzoo.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def register_architectures(register):\n"
        "    params = {'width': 4, 'depth': 3}\n"
        "    register('tun', lambda **kw: None, params=params, "
        "tunable={'depth': {'low': 1, 'high': 5}})\n"
    )
    load_plugins(tmp_path)
    cfg = {**default_config(), "arch": "tun", "arch_params": {"width": 4, "depth": 3}}
    dims = {d.key: d for d in derive_space(RunConfig.from_dict(cfg), catalog())}
    assert "arch.width" not in dims  # a name holding "width" gets no range of its own
    depth = dims["arch.depth"]
    assert (depth.low, depth.high, depth.integer, depth.log) == (1, 5, True, False)


SPACE_ERRORS = {
    "[arch.nope]\nlow = 1\nhigh = 2\n": "key 'arch.nope' (parameters of architecture 'tinypair'",
    "[train.lr]\nlow = 0.1\nhigh = 0.01\n": "key 'train.lr': 'low' must be below 'high'",
    "[train.epochs]\nfixed = 3\n": "unknown key 'train.epochs'",
    "[arch.width]\nlow = 1.5\nhigh = 4\n": "key 'arch.width': the parameter is an integer",
    "[arch.width]\nlow = 2\nhigh = 4\nchoices = [2]\n": "exactly one of",
    "[train.lr]\nfixed = -1.0\n": "key 'train.lr': fixed value -1.0 is not allowed",
    "[model]\n": "unknown key 'model'",
    "[train.lr\n": "not valid TOML",
    "derived = false\n[train.lr]\nfixed = 0.01\n": "the space searches nothing",
}


@pytest.mark.parametrize("text", list(SPACE_ERRORS))
def test_bad_space_file_is_one_line_naming_file_and_key(text, data, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(text)
    result = tune("--data", data, "--out", tmp_path / "o", "--trials", 1, "--space", space)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {space}") and SPACE_ERRORS[text] in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--arch", "nope"], "unknown architecture 'nope'"),
        (["--storage", "tune.db"], "--storage 'tune.db' is not a database URL"),
        (["--storage", "sqlite:////no/such/dir/t.db"], "cannot open the database"),
        (["--storage", "nosuchdb://x"], "cannot open the database"),
        (["--trials", "0"], "--trials must be at least 1"),
    ],
)
def test_bad_input_is_one_line(extra, message, data, tmp_path):
    result = tune("--data", data, "--out", tmp_path / "o", "--trials", 1, *extra)
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_table_lists_finished_trials_best_first_and_says_why_a_trial_failed():
    from pairzoo.tune.summary import table

    def row(number, state, value, **extra):
        params = {"train.lr": 0.001 * (number + 1)}
        return dict(number=number, state=state, value=value, epochs=2, duration_s=1.5,
                    params=params, **extra)  # fmt: skip

    summary = {
        "trials": [
            row(0, "COMPLETE", 0.61),
            row(1, "FAIL", None, error="architecture 'resnet': heads ['diff'] are all symmetric"),
            row(2, "COMPLETE", 0.72),
        ]
    }
    lines = table(summary).splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["2", "0", "1"]
    assert lines[-1] == "trial 1 failed: architecture 'resnet': heads ['diff'] are all symmetric"
