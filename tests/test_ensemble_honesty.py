"""`pairzoo eval --ensemble` reports honest figures: each label-using combiner's val score is the
out-of-fold one, recomputed here from scratch (onnxruntime on the member files, sklearn's folds,
each combiner written out again), and test_public's labels steer nothing.
"""

from __future__ import annotations

import json
import shutil

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from ensemble_fixtures import make_data_dir, register_tiny_models
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from pairzoo.cli import main
from pairzoo.data.format import load_data_dir
from pairzoo.data.labels_csv import write_labels
from pairzoo.registry import Registry

FOLDS, SEED, TREES, CARUANA_ROUNDS = 5, 42, 30, 25


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("honesty")
    reg = Registry(tmp / "registry")
    register_tiny_models(reg, tmp, 3)
    data = make_data_dir(tmp / "data")
    return reg, data, tmp, eval_report(reg, data, tmp / "report")


def eval_report(reg, data, out):
    args = ["eval", "--ensemble", "--all", "--registry", reg.root, "--data", data, "--out", out]
    extra = ["--folds", FOLDS, "--seed", SEED, "--trees", TREES, "--json", "--no-register"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, *extra]])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def member_logits(reg, report, x):
    """(pairs x members) logits, straight from each member's ONNX file in the registry."""
    xa = (x[:, None, :, :28] / np.float32(255.0)).astype(np.float32)
    xb = (x[:, None, :, 28:] / np.float32(255.0)).astype(np.float32)
    columns = []
    for m in report["members"]:
        path = reg.file_path(reg.resolve(f"{m['name']}@{m['version']}"))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        columns.append(session.run(["logit"], {"xa": xa, "xb": xb})[0])
    return np.stack(columns, axis=1).astype(np.float64)


def column_accuracy(X, y):
    return ((X > 0) == y[:, None]).mean(axis=0)


def best_single(X, y):
    i = int(np.argmax(column_accuracy(X, y)))
    return lambda Z: expit(Z[:, i])


def accuracy_weighted(X, y):
    acc = column_accuracy(X, y)
    return lambda Z: expit(Z) @ (acc / acc.sum())


def logistic(X, y):
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=SEED).fit(X, y)
    return lambda Z: model.predict_proba(Z)[:, 1]


def caruana(X, y):
    p, counts, total = expit(X), np.zeros(X.shape[1]), np.zeros(len(y))
    for step in range(CARUANA_ROUNDS):
        q = np.clip((total[:, None] + p) / (step + 1), 1e-7, 1 - 1e-7)
        losses = -(y[:, None] * np.log(q) + (1 - y[:, None]) * np.log(1 - q)).mean(axis=0)
        best = int(np.argmin(losses))
        counts[best] += 1
        total += p[:, best]
    return lambda Z: expit(Z) @ (counts / counts.sum())


def lightgbm(X, y):
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "max_depth": 5,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "seed": SEED,
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=TREES)
    return lambda Z: booster.predict(Z)


LABEL_USING = {
    "best single": best_single,
    "accuracy-weighted mean": accuracy_weighted,
    "stacking (logistic regression)": logistic,
    "greedy selection (Caruana)": caruana,
    "stacking (LightGBM)": lightgbm,
}


def out_of_fold(fit, X, y):
    proba = np.full(len(y), np.nan)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, held in folds.split(X, y):
        proba[held] = fit(X[train], y[train])(X[held])
    return proba


def test_val_scores_are_out_of_fold_for_every_label_using_combiner(setup):
    reg, data, _, report = setup
    val = load_data_dir(data, "val")
    X, y = member_logits(reg, report, val.x), np.asarray(val.y)
    rows = {r["method"]: r for r in report["leaderboard"]}
    gaps = {}
    for method, fit in LABEL_USING.items():
        oof = out_of_fold(fit, X, y)
        assert rows[method]["val"]["accuracy"] == np.mean((oof > 0.5) == y), method
        assert rows[method]["val"]["roc_auc"] == pytest.approx(roc_auc_score(y, oof), abs=1e-9)
        in_sample = fit(X, y)(X)
        gaps[method] = np.mean((in_sample > 0.5) == y) - np.mean((oof > 0.5) == y)
    # Scored on the rows it was fit on, the stacker would look better (here by 1.75 points), so
    # an in-sample figure cannot pass the equality above.
    assert gaps["stacking (LightGBM)"] > 0, gaps


def test_permuting_test_public_labels_changes_no_choice_and_no_val_figure(setup):
    reg, data, tmp, a = setup
    shuffled = tmp / "shuffled"
    shutil.copytree(data, shuffled)
    test = load_data_dir(data, "test_public")
    permuted = np.random.default_rng(0).permutation(test.y)
    assert (permuted != test.y).mean() > 0.3
    write_labels(shuffled / "test_public_labels.csv", test.ids, permuted)

    b = eval_report(reg, shuffled, tmp / "b")
    assert a["winner"] == b["winner"]
    for ra, rb in zip(a["leaderboard"], b["leaderboard"], strict=True):
        for key in ("method", "members", "val", "fold_accuracy", "winner"):
            assert ra[key] == rb[key], (ra["method"], key)
        assert ra["test_public"] != rb["test_public"], ra["method"]  # the labels were read
    booster = (tmp / "report" / "meta_learner.txt").read_text()
    assert (tmp / "b" / "meta_learner.txt").read_text() == booster
