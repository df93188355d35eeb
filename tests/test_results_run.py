"""A training run filed as a record: its val curve against training time, rendered for the docs."""

from __future__ import annotations

import json

from pairzoo.results import __main__ as results_cli
from pairzoo.results.records import newest_record
from pairzoo.results.tables import render


def _run_dir(tmp_path, finished=True):
    run = tmp_path / "run"
    run.mkdir()
    train = {"epochs": 2, "subset": 4000, "pairs": "fresh", "batch_size": 128, "lr": 6e-3,
             "schedule": "onecycle", "threads": 1}  # fmt: skip
    arch = {"layers": [2, 2, 2], "width_mult": 0.25, "heads": ["posterior"]}
    config = {"arch": "resnet", "arch_params": arch, "train": train, "seed": 42}
    metrics = {"name": "wide", "finished": finished, "params": 10, "macs_per_pair": 40_000_000,
               "train_dtype": "fp32", "train_time_s": 180.0, "val": {"accuracy": 0.9},
               "test_public": {"accuracy": 0.88},
               "val_digits": {"accuracy": 0.8, "by_hidden": [
                   {"hidden": "0-0.5", "digits": 7, "accuracy": 0.9}]}}  # fmt: skip
    history = [
        {"epoch": 1, "time_s": 120.0, "train_accuracy": 0.7, "val_accuracy": 0.8, "lr": 1e-3},
        {"epoch": 2, "time_s": 60.0, "train_accuracy": 0.85, "val_accuracy": 0.9, "lr": 0.0},
    ]
    for name, data in (("config", config), ("metrics", metrics), ("history", history)):
        (run / f"{name}.json").write_text(json.dumps(data))
    return run


def test_a_run_is_filed_with_its_curve_and_rendered(tmp_path, capsys):
    run = _run_dir(tmp_path)
    assert results_cli.main(["--repo", str(tmp_path), "save", "run", str(run)]) == 0
    record = newest_record(tmp_path / "results", "run")
    assert [r["val_accuracy"] for r in record["data"]["curve"]] == [0.8, 0.9]
    text = render("run", record)
    assert "| 1 | 2.0 | 70.00 | 80.00 |" in text  # minutes of training so far, not per epoch
    assert "| 2 | 3.0 | 85.00 | 90.00 |" in text
    assert "Val 90.00%, test_public 88.00%, after 3.0 minutes" in text
    assert "| 0-0.5 | 7 | 90.0 |" in text


def test_an_unfinished_run_is_refused_naming_the_file(tmp_path, capsys):
    run = _run_dir(tmp_path, finished=False)
    assert results_cli.main(["--repo", str(tmp_path), "save", "run", str(run)]) == 1
    err = capsys.readouterr().err
    assert "metrics.json: 'finished' is not true" in err and "\n" not in err.strip()
    assert not (tmp_path / "results" / "run").exists()
