"""The README's short forms of a record: the figures a user reads first, from the same record."""

from __future__ import annotations

from pairzoo.results.tables import record_kind, render


def _realism() -> dict:
    side = {"accuracy_spread": [0.58, 0.6], "n_per_side": 1144, "roc_auc": 0.6, "pvalue": 1e-9}
    return {
        "created": "2026-12-07T00:00:00Z",
        "commit": "abc1234",
        "command": "pairzoo data compare PUBLIC.npz data/test_public.npz --out DIR",
        "cpu": {"description": "Test CPU"},
        "data": {
            "a": {"path": "/somewhere/PUBLIC.npz", "pairs": 572},
            "b": {"path": "data/test_public.npz", "pairs": 2000},
            "seed": 3,
            "settings": {"folds": 10, "repeats": 2},
            "two_sample": {
                "cnn": {**side, "accuracy": 0.589, "accuracy_ci95": [0.569, 0.609]},
                "features": {**side, "accuracy": 0.635, "accuracy_ci95": [0.615, 0.655]},
            },
            "learning_curve": [],
            "verdict": {"detector": "features", "accuracy": 0.635, "pvalue": 1e-30},
        },
    }


def test_the_realism_verdict_names_sample_size_seed_and_both_detectors():
    text = render("realism-verdict", _realism())
    assert record_kind("realism-verdict") == "realism"
    assert "572 pairs (1144 digit images per side) of `PUBLIC.npz`" in text
    assert "against `data/test_public.npz`, seed 3, 10-fold cross-fitting, 2 repeats" in text
    assert "cnn 58.9% (95% CI 56.9%-60.9%); features 63.5% (95% CI 61.5%-65.5%)" in text
    assert "Verdict: features, 63.5%" in text
    assert text.endswith(
        "command `pairzoo data compare PUBLIC.npz data/test_public.npz --out DIR`."
    )
    assert "/somewhere" not in render("realism", _realism())  # a machine's path stays off pages


def test_the_realism_table_shows_what_tells_them_apart_where_the_record_has_it():
    assert "What tells them apart" not in render("realism", _realism())  # an older record
    record = _realism()
    record["data"]["what_tells_them_apart"] = {
        "detector": "features",
        "measure": "held-out accuracy lost when the statistic is shuffled",
        "rows": [
            {"feature": "mean", "importance": 0.0434, "a": [4.98, 13.7, 31.6], "b": None},
            {"feature": "std", "importance": 0.004, "a": [9.67, 29.5, 54.1], "b": [13.3, 29.6, 52]},
        ],
    }
    text = render("realism", record)
    assert "What tells them apart (features detector: held-out accuracy lost" in text
    assert "| `mean` | 4.3 | 4.98 / 13.7 / 31.6 | - |" in text
    assert text.index("`mean`") < text.index("`std`")


def test_the_estimate_view_gives_the_ensemble_interval_and_the_members_range():
    rows = [
        {"predictor": "a@1", "accuracy": 0.79, "low": 0.7, "high": 0.88, "method": "atc"},
        {"predictor": "b@1", "accuracy": 0.83, "low": 0.75, "high": 0.9, "method": "atc"},
        {"predictor": "ensemble", "accuracy": 0.8203, "low": 0.7319, "high": 0.9087,
         "method": "agreement"},
    ]  # fmt: skip
    record = {
        **_realism(),
        "data": {
            "kind": "ensemble",
            "entry": "zoo-ensemble@1",
            "files": [{"file": "/x/PUBLIC.npz", "pairs": 572, "estimates": rows}],
        },
    }
    text = render("estimate-ensemble", record)
    assert record_kind("estimate-ensemble") == "estimate"
    assert text.startswith(
        "PUBLIC.npz (572 pairs), ensemble zoo-ensemble@1: estimated 82.03% "
        "(interval 73.19-90.87%, agreement); its 2 members 79.00-83.00%."
    )
