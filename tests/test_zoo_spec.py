"""Zoo files: the builtin zoo, profile merging, and validation errors naming file and key."""

import textwrap

import pytest

from pairzoo.errors import ConfigError
from pairzoo.zoo.spec import builtin_zoo_path, load_zoo, pick_profile

ORIGINAL = [
    "improved_v2",
    "resnet_optimized_1.12",
    "resnet_fusion",
    "resnet_optimized",
    "resnet_seed42",
    "resnet_seed2023",
    "resnet_seed2024",
    "resnet_seed2025",
    "fpn",
    "resnet_fusion_seed123",
    "resnet_fusion_seed456",
]


def write(tmp_path, text, name="zoo.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """
    [defaults.train]
    epochs = 5
    [models.a]
    arch = "resnet"
    arch_params = { layers = [2, 2, 2], width_mult = 0.5 }
    [models.b]
    stage = 2
    arch = "fpn"
    seed = 7
    train = { epochs = 9, lr = 0.01 }
    [profiles.small]
    description = "small"
    [profiles.small.defaults.arch_params]
    width_mult = 0.125
    [profiles.small.defaults.train]
    epochs = 2
    [profiles.small.models.b.train]
    lr = 0.002
"""


@pytest.mark.parametrize("profile", ["full", "cpu", "smoke"])
def test_builtin_zoo_has_the_original_eleven_in_every_profile(profile):
    zoo = load_zoo(profile=profile)
    assert zoo.names() == ORIGINAL
    assert zoo.path == str(builtin_zoo_path())
    hashes = {repr(sorted(m.config.items())) for m in zoo.models}
    assert len(hashes) == 11  # no two models train the same thing


def test_builtin_zoo_keeps_the_originals_settings():
    zoo = {m.name: m for m in load_zoo(profile="full").models}
    focal = zoo["resnet_optimized_1.12"].config
    assert focal["arch_params"]["layers"] == [3, 3, 3]
    assert focal["loss"] == "focal" and focal["loss_params"] == {"alpha": 1.0, "gamma": 2.0}
    assert focal["train"]["epochs"] == 100 and zoo["resnet_fusion"].config["train"]["epochs"] == 80
    assert zoo["improved_v2"].config["arch"] == "improved_v2" and zoo["fpn"].config["arch"] == "fpn"
    assert [zoo[f"resnet_seed{s}"].config["seed"] for s in (42, 2023, 2024, 2025)] == [
        42,
        2023,
        2024,
        2025,
    ]
    assert [m.stage for m in zoo.values()] == [1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3]
    assert all(m.config["train"]["aux_weight"] > 0 for m in zoo.values())


def test_profiles_merge_defaults_then_model_then_profile(tmp_path):
    path = write(tmp_path, MINIMAL)
    base = {m.name: m.config for m in load_zoo(path, "full").models}
    assert base["a"]["train"]["epochs"] == 5 and base["b"]["train"]["epochs"] == 9
    assert base["b"]["train"]["lr"] == 0.01 and base["b"]["seed"] == 7
    assert base["a"]["arch_params"] == {"layers": [2, 2, 2], "width_mult": 0.5}
    small = {m.name: m.config for m in load_zoo(path, "small").models}
    # the profile's defaults beat a model's own value; its model table beats its defaults
    assert small["a"]["train"]["epochs"] == 2 and small["b"]["train"]["epochs"] == 2
    assert small["b"]["train"]["lr"] == 0.002 and small["b"]["seed"] == 7
    # tables merge key by key
    assert small["a"]["arch_params"] == {"layers": [2, 2, 2], "width_mult": 0.125}
    assert small["b"]["arch_params"] == {"width_mult": 0.125}
    assert small["a"]["name"] == "a" and load_zoo(path, "small").profile_description == "small"


def test_auto_profile_follows_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_profile("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_profile("auto") == "full"
    assert pick_profile("smoke") == "smoke"


def test_select_only_and_unknown_name(tmp_path):
    zoo = load_zoo(write(tmp_path, MINIMAL), "small")
    assert zoo.select(["b"]).names() == ["b"] and zoo.select([]).names() == ["a", "b"]
    with pytest.raises(ConfigError, match=r"no model named 'c' \(models: a, b\)"):
        zoo.select(["c"])


BAD = [
    ("[models.a]\narch = 'resnet'\nlayers = [2]\n", r"unknown key 'models\.a\.layers'"),
    ("[models.a]\ntrain = { epoch = 3 }\n", r"models\.a: unknown key 'train\.epoch'"),
    ("[models.a]\ntrain = { epochs = 'three' }\n", r"key 'train\.epochs' must be int"),
    ("[models.a]\ntrain = { epochs = 0 }\n", r"key 'train\.epochs' must be at least 1"),
    ("[models.a]\nstage = 0\n", r"key 'models\.a\.stage' must be at least 1"),
    ("[models.a]\nseed = 1.5\n", r"key 'seed' must be int"),
    ("[models.a]\n[profiles.p.models.b]\nseed = 1\n", r"'profiles\.p\.models\.b' names no model"),
    (
        "[models.a]\n[profiles.p.defaults]\nlos = 'bce'\n",
        r"unknown key 'profiles\.p\.defaults\.los'",
    ),
    ("[models.a]\n[profiles.p.defaults.train]\nlr = -1\n", r"under profile 'p': key 'train\.lr'"),
    ("[models.a]\n[settings]\nmin_val_acc = 0.5\n", r"unknown key 'settings\.min_val_acc'"),
    ("[models.a]\n[ensemble]\nfolds = 'five'\n", r"key 'ensemble\.folds' must be int"),
    (
        "[models.a]\n[profiles.p.ensemble]\nfolds = 1\n",
        r"'profiles\.p\.ensemble\.folds' must be at least 2",
    ),
    (
        "[models.a]\n[settings]\nmin_val_accuracy = 1.5\n",
        r"'settings\.min_val_accuracy' must be in",
    ),
    ("[models.a]\n[profiles.auto]\n", r"profile name 'auto' is reserved"),
    ("[models.ensemble]\n", r"model name 'ensemble' is reserved"),
    ("[models._pretrain]\n", r"model name '_pretrain' is reserved"),
    ("[models.'a b']\n", r"model name 'a b' is not usable"),
    ("format = 2\n[models.a]\n", r"key 'format' is 2, expected 1"),
    ("description = 'x'\n", r"no models; add a table \[models\.NAME\]"),
    ("models = 3\n", r"key 'models' must be a table"),
    ("[models.a]\n[modles.b]\n", r"unknown key 'modles'"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_errors_name_the_file_and_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_zoo(path, "full")
    assert str(info.value).startswith(str(path))


def test_missing_file_bad_toml_and_unknown_profile(tmp_path):
    with pytest.raises(ConfigError, match="zoo file '.*nope.toml' does not exist"):
        load_zoo(tmp_path / "nope.toml")
    bad = write(tmp_path, "[models.a\n", "bad.toml")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_zoo(bad)
    path = write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r"no profile 'gpu' \(profiles: full, small, or auto\)"):
        load_zoo(path, "gpu")


def test_plugin_names_are_checked_when_a_model_trains_not_here(tmp_path):
    path = write(tmp_path, "[models.a]\narch = 'no_such_arch'\n[models.b]\n")
    assert load_zoo(path, "full").names() == ["a", "b"]


def test_auto_runs_a_file_without_a_cpu_profile_as_written(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = write(tmp_path, "[models.a]\n")
    assert load_zoo(path, "auto").profile == "full"
    assert (
        load_zoo(write(tmp_path, MINIMAL + "[profiles.cpu]\n", "b.toml"), "auto").profile == "cpu"
    )
    with pytest.raises(ConfigError, match="no profile 'cpu'"):
        load_zoo(path, "cpu")
