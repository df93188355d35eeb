"""Config files, command-line values and the config hash."""

import pytest

from pairzoo.errors import ConfigError
from pairzoo.train.config import (
    config_hash,
    default_config,
    load_toml,
    merge,
    parse_assignments,
    parse_value,
    validate,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("0.5", 0.5),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ("3,3,3", [3, 3, 3]),
        ("diff,concat", ["diff", "concat"]),
        ("se", "se"),
        ("__import__('os')", "__import__('os')"),
    ],
)
def test_parse_value_is_json_ish_without_eval(text, value):
    assert parse_value(text) == value


def test_parse_assignments_needs_key_value():
    assert parse_assignments(["a=1", "b = x"], "--arch-param") == {"a": 1, "b": "x"}
    with pytest.raises(ConfigError, match="--arch-param 'oops': expected key=value"):
        parse_assignments(["oops"], "--arch-param")


def test_toml_file_is_read_and_overridden(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'arch = "resnet"\nseed = 1\n[arch_params]\nlayers = [3, 3]\n[train]\nepochs = 4\nlr = 1\n'
    )
    raw = load_toml(path)
    cfg = validate(merge(raw, {"seed": 2, "train": {"epochs": 9}}))
    assert cfg["seed"] == 2 and cfg["train"]["epochs"] == 9
    assert cfg["train"]["lr"] == 1.0 and isinstance(cfg["train"]["lr"], float)
    assert cfg["arch_params"] == {"layers": [3, 3]}
    assert cfg["train"]["batch_size"] == default_config()["train"]["batch_size"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("archh = 'x'\n", "run.toml: unknown key 'archh'"),
        ("[train]\nepoch = 3\n", "run.toml: unknown key 'train.epoch'"),
        ("[train]\nepochs = '3'\n", "run.toml: key 'train.epochs' must be int, got '3'"),
        ("seed = 1.5\n", "run.toml: key 'seed' must be int"),
        ("arch = [1\n", "run.toml: not valid TOML"),
    ],
)
def test_toml_errors_name_file_and_key(tmp_path, body, message):
    path = tmp_path / "run.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_toml(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_toml(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("train", "key"),
    [
        ({"epochs": 0}, "train.epochs"),
        ({"schedule": "linear"}, "train.schedule"),
        ({"label_smoothing": 1.0}, "train.label_smoothing"),
        ({"crop_scale": [0.9, 1.5]}, "train.crop_scale"),
        ({"device": "tpu"}, "train.device"),
    ],
)
def test_bad_values_name_the_key(train, key):
    with pytest.raises(ConfigError, match=f"key '{key}' must be"):
        validate({"train": train})


def test_config_hash_ignores_name_paths_and_runtime():
    a = validate({"name": "a", "data": "d1", "train": {"device": "cpu", "threads": 1}})
    b = validate({"name": "b", "data": "d2", "train": {"device": "auto", "eval_batch_size": 7}})
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash(validate({"seed": 1}))
