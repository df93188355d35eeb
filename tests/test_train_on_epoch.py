"""train_run's on_epoch callback: called once per epoch with the row written to history.json."""

import json

import pytest
from train_fixtures import fixture_plugins, make_data, tiny_config

from pairzoo.train import train_run


class Stop(Exception):
    pass


def test_on_epoch_sees_every_history_row_and_resume_continues(tmp_path):
    data = make_data(tmp_path / "data")
    cfg, out, rows = tiny_config(data, epochs=3), tmp_path / "run", []

    def stop_after_first(row):
        rows.append(row)
        raise Stop  # like Ctrl-C after epoch 1 was saved

    with fixture_plugins():
        with pytest.raises(Stop):
            train_run(cfg, out, progress=False, on_epoch=stop_after_first)
        assert [r["epoch"] for r in rows] == [1]
        rows.clear()
        metrics = train_run(cfg, out, resume=True, progress=False, on_epoch=rows.append)
    assert [r["epoch"] for r in rows] == [2, 3] and metrics["finished"]
    assert rows == json.loads((out / "history.json").read_text())[1:]
