"""train.pairs = "fresh": new pairs every epoch from the train split's own source digits."""

import dataclasses
import json

import numpy as np
import pytest
from train_fixtures import fixture_plugins, make_data, tiny_config
from zoo_fixtures import write_zoo

from pairzoo.data.fresh import fresh_pairs
from pairzoo.data.generate import DatasetSettings, make_dataset, partition_pools
from pairzoo.errors import ConfigError, DataError
from pairzoo.plugins import get_label_rule
from pairzoo.train import train_run
from pairzoo.train.config import config_hash, validate
from pairzoo.train.fresh_train import choose_pairs
from pairzoo.train.runconfig import RunConfig

SIZES = {"train": 256, "val": 128, "test_public": 32, "test_private": 32}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    make_dataset(out, DatasetSettings(seed=3, sizes=SIZES))
    return out


def test_the_stream_is_deterministic_and_new_every_epoch(generated):
    maker = fresh_pairs(generated)
    x1, y1, d1 = maker.epoch(7, 1, 64)
    again = fresh_pairs(generated).epoch(7, 1, 64)
    assert all(np.array_equal(a, b) for a, b in zip((x1, y1, d1), again, strict=True))
    x2, _, _ = maker.epoch(7, 2, 64)
    other_seed, _, _ = maker.epoch(8, 1, 64)
    assert x1.shape == (64, 28, 56) and x1.dtype == np.uint8
    assert not np.array_equal(x1, x2) and not np.array_equal(x1, other_seed)


def test_labels_follow_the_rule_and_the_digits(generated):
    _, y, digits = fresh_pairs(generated).epoch(7, 1, 200)
    expected = get_label_rule("greater").label(digits[:, 0], digits[:, 1])
    assert np.array_equal(y, np.asarray(expected)) and 0 < y.mean() < 1
    assert np.mean(np.abs(digits[:, 0] - digits[:, 1]) == 1) > 0.5  # the adjacent share, 0.8


def test_sources_are_the_train_pool_only(generated):
    maker = fresh_pairs(generated)
    streams = np.random.SeedSequence(3).spawn(1)
    val_pool = partition_pools(maker.source.labels, SIZES, np.random.default_rng(streams[0]))
    train_ids, val_ids = np.concatenate(maker.pools), np.concatenate(val_pool["val"])
    assert len(train_ids) and not set(train_ids) & set(val_ids)
    plain = dataclasses.replace(maker, corruptor=lambda images, n, rng: images)
    x, _, digits = plain.epoch(7, 1, 100)
    sources = {maker.source.images[i].tobytes(): i for i in train_ids}
    for half, column in ((x[:, :, :28], 0), (x[:, :, 28:], 1)):
        found = [sources.get(np.ascontiguousarray(img).tobytes()) for img in half]
        assert None not in found
        assert np.array_equal(maker.source.labels[found], digits[:, column])


def _config(data, pairs, **train):
    return tiny_config(data, pairs=pairs, patience=0, **train)


class _Stop(Exception):
    pass


def test_a_fresh_run_resumes_to_the_same_history(generated, tmp_path):
    def stop(row):
        raise _Stop

    with fixture_plugins():
        straight = train_run(_config(generated, "fresh", epochs=2), tmp_path / "a", progress=False)
        with pytest.raises(_Stop):
            train_run(_config(generated, "fresh", epochs=2), tmp_path / "b", False, False, stop)
        resumed = train_run(_config(generated, "fresh", epochs=2), tmp_path / "b", True, False)
        fixed = train_run(_config(generated, "fixed", epochs=2), tmp_path / "c", progress=False)
    rows = [json.loads((tmp_path / d / "history.json").read_text()) for d in "abc"]
    for row in (r for history in rows for r in history):
        row.pop("time_s")
    assert rows[0] == rows[1] and len(rows[0]) == 2
    assert rows[0] != rows[2]  # fresh pairs train differently from train.npz's
    assert resumed["val"] == straight["val"] and fixed["val"] != straight["val"]
    assert "fresh pairs every epoch" in (tmp_path / "a" / "train.log").read_text()


def test_a_fresh_epoch_may_hold_more_pairs_than_train_npz(generated, tmp_path):
    # train.npz holds 256 pairs; with fresh pairs an epoch has `subset` pairs however many that is
    with fixture_plugins():
        train_run(_config(generated, "fresh", subset=320), tmp_path / "more", progress=False)
        train_run(_config(generated, "fixed", subset=320), tmp_path / "fixed", progress=False)
    assert "320 train / 128 val pairs" in (tmp_path / "more" / "train.log").read_text()
    assert "256 train / 128 val pairs" in (tmp_path / "fixed" / "train.log").read_text()


def test_user_data_falls_back_under_auto_and_refuses_fresh(tmp_path):
    data = make_data(tmp_path / "data")
    with fixture_plugins():
        train_run(_config(data, "auto"), tmp_path / "auto", progress=False)
        with pytest.raises(
            DataError, match=r"'fresh': .*meta\.json: lacks the generator's settings"
        ):
            train_run(_config(data, "fresh"), tmp_path / "fresh", progress=False)
    assert "pairs: fixed (auto:" in (tmp_path / "auto" / "train.log").read_text()


def test_a_teacher_refuses_fresh_and_auto_falls_back(generated):
    fresh = RunConfig.from_dict(_config(generated, "fresh"))
    with pytest.raises(ConfigError, match="teacher"):
        choose_pairs(fresh, teacher=True)
    auto = RunConfig.from_dict(_config(generated, "auto"))
    assert choose_pairs(auto, teacher=True) == (
        False,
        "pairs: fixed (auto: a teacher's logits exist for train.npz's pairs only)",
    )
    assert choose_pairs(auto, teacher=False) == (True, None)


def test_bad_value_is_refused_and_fixed_keeps_old_hashes(generated):
    with pytest.raises(ConfigError, match=r"train\.pairs.*one of fixed, fresh, auto"):
        validate(_config(generated, "sometimes"))
    old = validate(tiny_config(generated, patience=0))
    del old["train"]["pairs"]
    assert config_hash(old) == config_hash(validate(_config(generated, "fixed")))
    assert config_hash(old) != config_hash(validate(_config(generated, "fresh")))


def test_a_zoo_profile_passes_the_option_to_its_models(tmp_path):
    from pairzoo.zoo.spec import load_zoo

    def zoo(pairs):
        cpu = {"defaults": {"train": {"pairs": pairs}}, "models": {"a": {"train": {"epochs": 2}}}}
        return write_zoo(tmp_path, {"models": {"a": {"arch": "resnet"}}, "profiles": {"cpu": cpu}})

    assert load_zoo(zoo("auto"), "cpu").models[0].config["train"]["pairs"] == "auto"
    with pytest.raises(ConfigError, match=r"train\.pairs"):
        load_zoo(zoo("often"), "cpu")
