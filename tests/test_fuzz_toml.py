"""Fuzzing the TOML files users write: a run config (`pairzoo train --config`) and a zoo file.

Each either gives a valid config / zoo or one ConfigError naming the file.
"""

from __future__ import annotations

import json

import pytest
from fuzz_strategies import (
    deeply_nested,
    expect_ok_or,
    json_values,
    mostly,
    short_texts,
    texts,
    toml_document,
    toml_values,
    workdir,
)
from hypothesis import example, given
from hypothesis import strategies as st

from pairzoo.errors import ConfigError
from pairzoo.train.config import TOP_DEFAULTS, TRAIN_DEFAULTS, load_toml, validate
from pairzoo.zoo.spec import ENSEMBLE_DEFAULTS, SETTINGS_DEFAULTS, load_zoo

pytestmark = pytest.mark.fuzz


def plausible(default) -> st.SearchStrategy:
    """Values of the default's type (often in range), or anything at all."""
    if isinstance(default, bool):
        typed = st.booleans()
    elif isinstance(default, int):
        typed = st.integers(-3, 2**63 - 1) | st.integers(-3, 200)
    elif isinstance(default, float):
        typed = st.floats(allow_nan=True) | st.floats(-1, 2) | st.integers(-3, 200)
    elif isinstance(default, str):
        typed = (
            st.sampled_from(["onecycle", "cosine", "cpu", "auto", "first", "random", ""]) | texts
        )
    elif isinstance(default, list):
        typed = st.lists(st.floats(-1, 2) | st.integers(0, 2) | texts | toml_values, max_size=3)
    else:
        typed = st.dictionaries(short_texts, toml_values, max_size=3)
    return mostly(typed, toml_values)


def table_of(defaults: dict, **extra) -> st.SearchStrategy:
    """A table whose keys mostly come from `defaults` (values of plausible types)."""
    known = st.fixed_dictionaries(
        {}, optional={k: plausible(v) for k, v in defaults.items()} | extra
    )
    wild = st.dictionaries(short_texts, toml_values, max_size=3)
    return mostly(known, wild)


top_keys = {k: plausible(v) for k, v in TOP_DEFAULTS.items()}
config_tables = mostly(
    st.fixed_dictionaries({}, optional={**top_keys, "train": table_of(TRAIN_DEFAULTS)}),
    st.dictionaries(short_texts, toml_values, max_size=5),
)
broken_toml = st.one_of(
    texts,
    st.sampled_from(['a = "', "[train", "[train]\nepochs = 1\n[train]\n", "a = 1\na = 2\n"]),
    st.just(deeply_nested(5000, "toml")),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def write(tmp, name: str, text: str | bytes):
    path = tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@given(config_tables.map(toml_document) | broken_toml)
@example('[train]\ncrop_scale = ["a", 1]\n')
@example("[train]\ncrop_scale = [{}, 1]\n")
@example("[train]\nlr = -1\n")
@example("[train]\nepochs = 0\n")
def test_config_file(text):
    with workdir() as tmp:
        path = write(tmp, "run.toml", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            raw = load_toml(path)
        if not err:
            # what `pairzoo train --config` does next: nothing may fail now for the file's sake
            config = validate(raw)
            assert set(config["train"]) == set(TRAIN_DEFAULTS)


@given(mostly(config_tables, json_values).map(lambda v: json.dumps(v, default=str)))
@example(deeply_nested(100_000))
@example('{"seed": ' + "9" * 5000 + "}")
@example('{"train": {"lr": ' + "9" * 400 + "}}")
def test_run_config_json(text):
    """config.json of a run directory, read back by `pairzoo train --resume`."""
    with workdir() as tmp:
        path = write(tmp, "config.json", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            raw = load_toml(path)
        if not err:
            validate(raw)


model_names = st.sampled_from(["resnet_a", "b.1", "ensemble", "-bad", "", "a/b", "x" * 101]) | texts
model_tables = mostly(
    st.fixed_dictionaries(
        {},
        optional={
            **top_keys,
            "train": table_of(TRAIN_DEFAULTS),
            "stage": plausible(1),
            "description": plausible(""),
        },
    ),
    toml_values,
)
section = {
    "settings": table_of(SETTINGS_DEFAULTS),
    "ensemble": table_of(ENSEMBLE_DEFAULTS),
    "defaults": mostly(
        st.fixed_dictionaries({}, optional={**top_keys, "train": table_of(TRAIN_DEFAULTS)}),
        toml_values,
    ),
}


@st.composite
def zoo_documents(draw) -> dict:
    models = draw(mostly(st.dictionaries(model_names, model_tables, max_size=3), toml_values))
    names = list(models) if isinstance(models, dict) else []
    profile_models = st.dictionaries(st.sampled_from(names) if names else texts, model_tables)
    profile = mostly(
        st.fixed_dictionaries(
            {},
            optional={**section, "description": plausible(""), "models": profile_models},
        ),
        toml_values,
    )
    top = draw(
        st.fixed_dictionaries(
            {},
            optional={
                **section,
                "format": mostly(st.just(1), toml_values),
                "description": plausible(""),
                "profiles": mostly(
                    st.dictionaries(st.sampled_from(["cpu", "full", "auto", "smoke"]), profile),
                    toml_values,
                ),
                "extra": toml_values,
            },
        )
    )
    return {**top, "models": models}


@given(zoo_documents().map(toml_document) | broken_toml, st.sampled_from(["full", "cpu", "smoke"]))
def test_zoo_file(text, profile):
    with workdir() as tmp:
        path = write(tmp, "zoo.toml", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            zoo = load_zoo(path, profile)
        if not err:
            assert zoo.models and zoo.profile == profile
            for model in zoo.models:
                assert validate(model.config) == model.config
                assert isinstance(model.stage, int) and model.stage >= 1
