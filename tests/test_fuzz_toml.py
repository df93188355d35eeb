"""Fuzzing the TOML files users write: a run config (`pairzoo train --config`) and a zoo file.

Documents are valid ones with at most one key spoiled (set to any TOML value, removed or added),
random tables, or text that is not TOML at all. Each gives a valid config / zoo or one
ConfigError naming the file.
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
    spoiled,
    texts,
    toml_values,
    workdir,
)
from hypothesis import example, given
from hypothesis import strategies as st
from zoo_fixtures import toml_document

from pairzoo.errors import ConfigError
from pairzoo.train.config import (
    DEVICES,
    PAIRS,
    SCHEDULES,
    SUBSET_MODES,
    TRAIN_DEFAULTS,
    config_hash,
    load_toml,
    validate,
)
from pairzoo.zoo.spec import load_zoo

pytestmark = pytest.mark.fuzz


def floats(low: float, high: float) -> st.SearchStrategy:
    return st.floats(low, high) | st.integers(int(low) + (low % 1 > 0), int(high))


def table(values: dict) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=values)


TRAIN_VALUES = {
    "epochs": st.integers(1, 5),
    "batch_size": st.integers(2, 512),
    "eval_batch_size": st.integers(1, 4096),
    "lr": floats(1e-6, 1.0),
    "weight_decay": floats(0, 1),
    "schedule": st.sampled_from(SCHEDULES),
    "patience": st.integers(0, 10),
    "label_smoothing": st.floats(0, 0.99),
    "grad_clip": floats(0, 10),
    "accum_steps": st.integers(1, 4),
    "aux_weight": floats(0, 2),
    "subset": st.integers(0, 10**6),
    "subset_mode": st.sampled_from(SUBSET_MODES),
    "pairs": st.sampled_from(PAIRS),
    "augment": st.booleans(),
    "rotate": floats(0, 180),
    "translate": st.floats(0, 0.5),
    "crop_scale": st.tuples(st.floats(0.01, 1), st.floats(0.01, 1)).map(sorted),
    "swap": st.booleans(),
    "amp": st.booleans(),
    "device": st.sampled_from(DEVICES),
    "threads": st.integers(0, 8),
    "init_from": st.just("") | short_texts,
    "init_strict": st.booleans(),
}
assert set(TRAIN_VALUES) == set(TRAIN_DEFAULTS)
RUN_VALUES = {  # what a zoo may set for a model: everything but name and data
    "arch": st.sampled_from(["resnet", "baseline"]) | texts,
    "arch_params": st.dictionaries(short_texts, toml_values, max_size=3),
    "loss": st.sampled_from(["bce", "focal"]) | texts,
    "loss_params": st.dictionaries(short_texts, toml_values, max_size=3),
    "rule": st.sampled_from(["", "greater", "same"]),
    "seed": st.integers(0, 2**62 - 1),
    "train": table(TRAIN_VALUES),
}
CONFIG_VALUES = {**RUN_VALUES, "name": texts, "data": texts}

configs = spoiled(table(CONFIG_VALUES), toml_values)
not_toml = st.one_of(
    texts,
    st.sampled_from(['a = "', "[train", "[train]\nepochs = 1\n[train]\n", "a = 1\na = 2\n"]),
    st.just(deeply_nested(5000, "toml")),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def write(tmp, name: str, text: str):
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


@given(mostly(configs.map(toml_document), not_toml))
@example('[train]\ncrop_scale = ["a", 1]\n')
@example("[train]\ncrop_scale = [{}, 1]\n")
@example("[train]\nlr = -1\n")
@example("[train]\nlr = inf\n")
@example("seed = -1\n")
def test_config_file(text):
    with workdir() as tmp:
        path = write(tmp, "run.toml", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            raw = load_toml(path)
        if not err:
            # what `pairzoo train --config` does next: nothing may fail now for the file's sake
            config = validate(raw)
            assert set(config["train"]) == set(TRAIN_DEFAULTS)
            json.dumps(config, sort_keys=True)  # written as config.json, hashed
            config_hash(config)


@given(
    st.one_of(configs, json_values).map(lambda v: json.dumps(v, default=str))
    | texts
    | st.sampled_from(
        [
            deeply_nested(100_000),
            '{"seed": ' + "9" * 5000 + "}",
            '{"train": {"lr": ' + "9" * 400 + "}}",
            '{"train": {"lr": NaN}}',
        ]
    )
)
def test_run_config_json(text):
    """config.json of a run directory, read back by `pairzoo train --resume`."""
    with workdir() as tmp:
        path = write(tmp, "config.json", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            raw = load_toml(path)
        if not err:
            validate(raw)


SETTINGS_VALUES = {"min_val_accuracy": st.floats(0, 0.99), "jobs": st.integers(1, 4)}
ENSEMBLE_VALUES = {
    "enabled": st.booleans(),
    "batch_size": st.integers(1, 512),
    "threads": st.integers(0, 4),
    "n_estimators": st.integers(1, 500),
    "learning_rate": floats(1e-4, 1),
    "max_depth": st.integers(-1, 10),
    "num_leaves": st.integers(2, 64),
    "min_child_samples": st.integers(1, 50),
    "folds": st.integers(2, 10),
    "seed": st.integers(0, 2**31),
    "num_threads": st.integers(1, 4),
}
SECTIONS = {
    "settings": table(SETTINGS_VALUES),
    "ensemble": table(ENSEMBLE_VALUES),
    "defaults": table(RUN_VALUES),
}
MODEL_VALUES = {**RUN_VALUES, "stage": st.integers(1, 3), "description": texts}
model_names = st.sampled_from(["resnet_a", "b.1", "fpn-2", "m" * 100])


@st.composite
def zoos(draw) -> dict:
    models = draw(st.dictionaries(model_names, table(MODEL_VALUES), min_size=1, max_size=3))
    profiles = draw(
        st.dictionaries(
            st.sampled_from(["cpu", "smoke", "gpu"]),
            table(
                {
                    **SECTIONS,
                    "description": texts,
                    "models": st.dictionaries(
                        st.sampled_from(sorted(models)), table(MODEL_VALUES), max_size=2
                    ),
                }
            ),
            max_size=2,
        )
    )
    top = draw(table({**SECTIONS, "format": st.just(1), "description": texts}))
    return {**top, "models": models, "profiles": profiles}


@given(
    mostly(
        spoiled(zoos(), toml_values).map(toml_document),
        not_toml
        | st.sampled_from(['format = 1\n[models."ensemble"]\n', "[models.a]\n[profiles.auto]\n"]),
    ),
    st.sampled_from(["full", "cpu", "smoke"]),
)
def test_zoo_file(text, profile):
    with workdir() as tmp:
        path = write(tmp, "zoo.toml", text)
        with expect_ok_or(ConfigError, str(path)) as err:
            zoo = load_zoo(path, profile)
        if not err:
            assert zoo.models and zoo.profile == profile
            for model in zoo.models:
                assert validate(model.config) == model.config
                config_hash(model.config)
                assert isinstance(model.stage, int) and model.stage >= 1
