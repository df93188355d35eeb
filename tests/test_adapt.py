"""`pairzoo adapt` on a tiny zoo: registration with lineage, reruns, the val guard, bad inputs,
a kill during adaptation; and the pseudo-label and swap checks on their own."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from crash_fixtures import finish, snapshot, start
from train_fixtures import make_data, make_pairs
from zoo_fixtures import SMALL_STACK, tiny_zoo, write_zoo

from pairzoo.adapt.checks import swap_agreement
from pairzoo.adapt.pseudo import select_pseudo_labels
from pairzoo.cli import main
from pairzoo.data.format import save_split
from pairzoo.registry import Registry

ZOO = tiny_zoo(
    {"tiny_a": {"seed": 1}, "tiny_b": {"seed": 2}},
    train={"epochs": 2, "batch_size": 32, "lr": 3e-3},
    ensemble={**SMALL_STACK, "estimate_pairs": 40},
)


pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.slow]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """Bar-digit data a tiny model learns (so the val guard has a margin to keep), a two-model
    zoo trained, exported and stacked, and 40 unlabelled pairs: (data, registry dir)."""
    root = tmp_path_factory.mktemp("adapt")
    data, runner = make_data(root / "data", n_train=512, n_val=256, n_test=32), CliRunner()
    x, _, _ = make_pairs(np.random.default_rng(5), 40)
    save_split(data / "test_private.npz", x, np.array([f"PRI_{i:07d}" for i in range(40)]))
    args = ["train-all", "--zoo", str(write_zoo(root, ZOO)), "--data", str(data), "--no-progress"]
    paths = ["--runs", str(root / "runs"), "--registry", str(root / "registry")]
    result = runner.invoke(main, [*args, *paths])
    assert result.exit_code == 0, result.output
    return data, root / "registry"


def _registry(zoo, tmp_path):
    shutil.copytree(zoo[1], tmp_path / "registry")
    return tmp_path / "registry"


def _adapt_args(data, registry, tmp_path, *extra):
    return [
        "adapt", "--unlabelled", str(data / "test_private.npz"), "--registry", str(registry),
        "--data", str(data), "--out", str(tmp_path / "adapt"), "--threshold", "0.5",
        "--threads", "1", "--generated", "64", *extra,
    ]  # fmt: skip


def _adapt(data, registry, tmp_path, *extra):
    return CliRunner().invoke(main, _adapt_args(data, registry, tmp_path, *extra))


def _entries(registry):
    rows = json.loads((registry / "catalogue.json").read_text())["entries"]
    return sorted((r["name"], r["version"]) for r in rows)


def test_adapted_members_and_ensemble_are_registered_with_lineage_and_used_by_predict(
    zoo, tmp_path
):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    result = _adapt(data, registry, tmp_path, "--score", str(data / "val.npz"))
    assert result.exit_code == 0, result.output
    reg = Registry(registry)
    ensemble = reg.resolve("zoo-ensemble-adapted")
    lineage = ensemble["adaptation"]
    digest = __import__("hashlib").sha256((data / "test_private.npz").read_bytes()).hexdigest()
    assert lineage["unlabelled"] == [{"name": "test_private.npz", "sha256": digest, "pairs": 40}]
    assert (lineage["parent"], lineage["round"], lineage["threshold"]) == ("zoo-ensemble@1", 1, 0.5)
    assert lineage["settings"]["generated"] == 64
    assert lineage["match"]["severity"] in {
        float(s) for s in lineage["match"]["two_sample_accuracy"]
    }
    members = {f"{m['name']}@{m['version']}" for m in ensemble["members"]}
    assert members == {"tiny_a@2", "tiny_b@2"}
    member = reg.resolve("tiny_a@2")
    assert member["adaptation"]["parent_member"] == "tiny_a@1"
    assert member["adaptation"]["unlabelled"] == lineage["unlabelled"]
    report = json.loads((next((tmp_path / "adapt").iterdir()) / "report.json").read_text())
    assert report["entry"] == "zoo-ensemble-adapted@1"
    assert report["match"] == lineage["match"]
    generated = next((tmp_path / "adapt").iterdir()) / "generated" / "train.npz"
    assert generated.is_file()
    assert {"val_accuracy", "confident_share", "swap_consistency"} <= set(report["rounds"][1])
    assert (
        report["score"][0]["before"] == report["rounds"][0]["score_accuracy"][str(data / "val.npz")]
    )

    shown = CliRunner().invoke(main, ["registry", "show", "tiny_a@2", "--registry", str(registry)])
    assert "adapted from:      zoo-ensemble@1 (round 1 of 1, threshold 0.5)" in shown.output
    assert f"test_private.npz (sha256 {digest[:12]}, 40 pairs)" in shown.output
    severity = lineage["match"]["severity"]
    assert (
        f"generated:       64 pairs at severity {severity:g} (two-sample accuracy" in shown.output
    )
    out = tmp_path / "pred.csv"
    predict = ["predict", "--ensemble", "--data", str(data / "test_private.npz")]
    result = CliRunner().invoke(main, [*predict, "--out", str(out), "--registry", str(registry)])
    assert "with ensemble zoo-ensemble-adapted@1" in result.output
    # the report's figure for the registered entry is the one predict gives on the same file
    scored = ["predict", "--ensemble", "--data", str(data / "val.npz"), "--json"]
    result = CliRunner().invoke(main, [*scored, "--out", str(out), "--registry", str(registry)])
    registered = report["registered"]
    assert registered["entry"] == "zoo-ensemble-adapted@1"
    assert registered["score_accuracy"][str(data / "val.npz")] == json.loads(result.output)[
        "accuracy"]  # fmt: skip
    row = next(
        r for r in registered["estimate"]["test_private.npz"] if r["predictor"] == "ensemble"
    )
    assert row["low"] <= row["accuracy"] <= row["high"]
    assert report["parent_entry"]["entry"] == "zoo-ensemble@1"


def test_rerunning_the_same_command_registers_nothing_more(zoo, tmp_path):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    assert _adapt(data, registry, tmp_path).exit_code == 0
    before = _entries(registry)
    result = _adapt(data, registry, tmp_path)
    assert result.exit_code == 0, result.output
    assert "already registered: zoo-ensemble-adapted@1" in result.output
    assert _entries(registry) == before


def test_an_adaptation_that_lowers_val_accuracy_is_refused_and_registers_nothing(zoo, tmp_path):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    before = snapshot(registry)
    # Batch-norm statistics re-estimated on all-white pairs: wrong for every labelled pair
    # (measured: val 100% -> 94.5%, one member at 4.7%)
    white = np.full((40, 28, 56), 255, np.uint8)
    save_split(tmp_path / "white.npz", white, np.array([f"N_{i}" for i in range(40)]))
    args = _adapt_args(data, registry, tmp_path, "--bn", "target", "--generated", "0")
    args[args.index("--unlabelled") + 1] = str(tmp_path / "white.npz")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "refused: labelled val accuracy would fall" in result.output
    assert snapshot(registry) == before


def _bad_file(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    x = np.zeros((4, 28, 56), np.uint8)
    ids = np.array([f"T_{i}" for i in range(4)])
    if kind == "no_x":
        np.savez(path, id=ids)
    elif kind == "wrong_shape":
        np.savez(path, x=np.zeros((4, 28, 28), np.uint8), id=ids)
    elif kind == "no_pairs":
        np.savez(path, x=x[:0], id=ids[:0])
    else:  # an empty file
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("no_x", "key 'x' is missing, expected keys x, id"),
        ("wrong_shape", "key 'x' has shape (4, 28, 28), expected (N, 28, 56)"),
        ("no_pairs", "key 'x' holds no pairs"),
        ("empty", "not a readable .npz archive"),
    ],
)
def test_bad_unlabelled_files_give_one_line_errors_and_register_nothing(
    zoo, tmp_path, kind, message
):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    before = snapshot(registry)
    bad = _bad_file(tmp_path, kind)
    args = ["adapt", "--unlabelled", str(bad), "--registry", str(registry), "--data", str(data)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "adapt")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {bad}: ") and message in lines[0]
    assert snapshot(registry) == before


def test_a_registry_without_an_ensemble_is_refused_in_one_line(zoo, tmp_path):
    data = zoo[0]
    result = _adapt(data, tmp_path / "empty_registry", tmp_path)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: registry {tmp_path / 'empty_registry'} has no ensemble entries; build one with "
        "`pairzoo eval --ensemble`"
    ]


def test_a_kill_during_adaptation_leaves_the_registry_as_it_was_and_the_rerun_finishes(
    zoo, tmp_path
):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    before = snapshot(registry)
    args = _adapt_args(data, registry, tmp_path)[0:] + ["--rounds", "2"]
    # SIGKILL as the second member's round-2 run is being written: after round 1 finished
    proc = start(args, die_at="before:replace:*round2/tiny_b/metrics.json:1")
    assert finish(proc) == -9
    assert snapshot(registry) == before
    kept = next((tmp_path / "adapt").iterdir()) / "round2" / "tiny_a" / "metrics.json"
    stamp = kept.stat().st_mtime_ns
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert kept.stat().st_mtime_ns == stamp  # the finished member run was kept, not redone
    assert Registry(registry).resolve("zoo-ensemble-adapted")["adaptation"]["round"] == 2


def test_pseudo_labels_keep_the_predicted_class_shares_and_the_threshold():
    proba = np.array([0.99, 0.98, 0.97, 0.96, 0.6, 0.02, 0.4, 0.55])
    pseudo = select_pseudo_labels(proba, threshold=0.9)
    # predicted 1: 6 of 8 (share 0.75); confident: four 1s and one 0, and that one 0 allows a
    # total of 4 in shares 1/4, 3/4: the 0 and the three most confident 1s
    assert pseudo.confident == 5
    assert np.all(np.maximum(proba[pseudo.index], 1 - proba[pseudo.index]) >= 0.9)
    assert list(pseudo.index) == [0, 1, 2, 5]
    assert pseudo.label.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_swap_agreement_follows_the_rule():
    p = np.array([0.9, 0.2, 0.7])
    assert swap_agreement(p, np.array([0.1, 0.8, 0.6]), "flip") == pytest.approx(2 / 3, abs=1e-4)
    assert swap_agreement(p, np.array([0.9, 0.2, 0.6]), "keep") == 1.0
    assert swap_agreement(p, p, "none") is None


def test_several_unlabelled_files_are_read_in_order_without_their_labels(tmp_path):
    from pairzoo.adapt.targets import load_targets

    x = np.arange(2 * 28 * 56, dtype=np.uint8).reshape(2, 28, 56)
    save_split(tmp_path / "a.npz", x, np.array(["A_0", "A_1"]), y=np.array([0, 1]))
    save_split(tmp_path / "b.npz", x[::-1].copy(), np.array(["B_0", "B_1"]))
    targets = load_targets([tmp_path / "a.npz", tmp_path / "b.npz"])
    assert targets.x.shape == (4, 28, 56)
    assert [f["name"] for f in targets.files] == ["a.npz", "b.npz"]


def test_train_all_with_unlabelled_adapts_its_ensemble_as_the_last_stage(zoo, tmp_path):
    data, registry = zoo[0], _registry(zoo, tmp_path)
    runs = tmp_path / "runs"
    shutil.copytree(zoo[1].parent / "runs", runs)
    args = ["train-all", "--zoo", str(zoo[1].parent / "zoo.toml"), "--data", str(data)]
    paths = ["--runs", str(runs), "--registry", str(registry), "--no-progress"]
    target = ["--unlabelled", str(data / "test_private.npz"), "--adapt-threshold", "0.5",
              "--adapt-generated", "64"]  # fmt: skip
    result = CliRunner().invoke(main, [*args, *paths, *target])
    assert result.exit_code == 0, result.output
    assert "registered zoo-ensemble-adapted@1 (now the latest ensemble)" in result.output
    card = Registry(registry).resolve("zoo-ensemble-adapted")
    assert card["adaptation"]["parent"] == "zoo-ensemble@1"
    assert card["adaptation"]["settings"]["generated"] == 64  # --adapt-generated reached adapt
    assert (runs / "adapt").is_dir()
