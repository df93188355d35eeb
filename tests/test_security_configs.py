"""Configs are data, never code: Python-looking values stay strings (and are refused where a
name or number is expected), and the package source holds no call that would run code from a
file (eval, exec, pickle, torch.load without weights_only, np.load with pickles, yaml.load)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_fixtures import make_data
from zoo_fixtures import write_zoo

from pairzoo.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pairzoo", "plugins", "benchmarks")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_data(tmp_path_factory.mktemp("security-configs") / "data", n_train=32, n_val=16)


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "code-ran"


def expr(marker: Path) -> str:
    """A value that creates `marker` if anything evaluates it as Python."""
    return f"__import__('os').system('touch {marker}')"


def cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


# (where the expression goes in a TOML config, the refusal's words)
TOML_PLACES = {
    "arch": ('arch = "{e}"', "architecture"),
    "loss": ('loss = "{e}"', "loss"),
    "rule": ('rule = "{e}"', "rule"),
    "train.lr": ('[train]\nlr = "{e}"', "train.lr"),
    "train.schedule": ('[train]\nschedule = "{e}"', "train.schedule"),
    "arch_params.feat_dim": ('[arch_params]\nfeat_dim = "{e}"', "feat_dim"),
    "unknown key": ('"{e}" = 1', "unknown key"),
}


@pytest.mark.parametrize("place", list(TOML_PLACES))
def test_python_in_a_toml_config_is_refused_as_a_plain_value(data, tmp_path, marker, place):
    line, words = TOML_PLACES[place]
    config = tmp_path / "evil.toml"
    body = f'data = "{data}"\n' + ("" if place == "arch" else 'arch = "baseline"\n')
    config.write_text(body + line.format(e=expr(marker)) + "\n")
    code, output = cli("train", "--config", config, "--out", tmp_path / "run", "--no-progress")
    assert not marker.exists()
    assert code == 1 and output.startswith("Error: "), output
    assert words in output and "__import__(" in output, output  # quoted back as text
    assert not (tmp_path / "run" / "model.pt").exists()


def test_python_in_a_json_config_and_in_command_line_values_is_refused(data, tmp_path, marker):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"arch": "baseline", "data": str(data), "loss": expr(marker)}))
    code, output = cli("train", "--config", config, "--out", tmp_path / "a", "--no-progress")
    assert code == 1 and "loss" in output and expr(marker) in output, output
    for option in ("--arch-param", "--loss-param"):
        code, output = cli(
            "train", "--arch", "baseline", "--data", data, option, f"feat_dim={expr(marker)}",
            "--out", tmp_path / "b", "--no-progress",
        )  # fmt: skip
        assert code == 1 and output.startswith("Error: "), output
    assert not marker.exists()


def test_python_in_a_name_stays_a_string(data, marker):
    from pairzoo.train.resolve import resolve_config

    config = {"name": expr(marker), "arch": "baseline", "data": str(data)}
    assert resolve_config(config)["name"] == expr(marker)
    assert not marker.exists()


def test_python_in_a_zoo_file_is_refused(data, tmp_path, marker):
    evil = {"settings": {"min_val_accuracy": 0.0}, "models": {"evil": {"arch": expr(marker)}}}
    zoo = write_zoo(tmp_path, evil)
    argv = ["train-all", "--zoo", zoo, "--data", data, "--runs", tmp_path / "runs"]
    code, output = cli(*argv, "--registry", tmp_path / "reg", "--no-progress")
    assert code == 1 and expr(marker) in output, output
    assert not marker.exists()


def test_python_in_a_tune_space_file_is_refused(data, tmp_path, marker):
    from pairzoo.errors import ConfigError
    from pairzoo.plugins import catalog
    from pairzoo.train.resolve import resolve_config
    from pairzoo.train.runconfig import RunConfig
    from pairzoo.tune.spacefile import load_space_file

    space = tmp_path / "space.toml"
    space.write_text(f'[train.lr]\nlow = "{expr(marker)}"\nhigh = 1e-2\n')
    cfg = RunConfig.from_dict(resolve_config({"arch": "baseline", "data": str(data)}))
    with pytest.raises(ConfigError, match="train.lr"):
        load_space_file(space, cfg, catalog())
    assert not marker.exists()


# ---- static: no call in the package that would run code from a file -------------------------

# module name -> functions of it that deserialize code-carrying formats
UNSAFE_MODULE_CALLS = {
    "pickle": {"load", "loads", "Unpickler"},
    "cPickle": {"load", "loads", "Unpickler"},
    "dill": {"load", "loads"},
    "cloudpickle": {"load", "loads"},
    "marshal": {"load", "loads"},
    "shelve": {"open"},
    "joblib": {"load"},
    "yaml": {"load", "unsafe_load", "full_load", "load_all"},
    "jit": {"load"},  # torch.jit.load: TorchScript is code
    "pd": {"read_pickle"},
    "pandas": {"read_pickle"},
}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return "missing"


def unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    """Every call in `source` that could run code from a file, as 'file:line: what'."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and node.module in UNSAFE_MODULE_CALLS:
            bad = {a.name for a in node.names} & UNSAFE_MODULE_CALLS[node.module]
            if bad:
                found.append(f"{filename}:{node.lineno}: from {node.module} import {bad}")
        if not isinstance(node, ast.Call):
            continue
        func, what = node.func, None
        if isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS:
            what = f"{func.id}()"
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name | ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else func.value.attr
            if func.attr in UNSAFE_MODULE_CALLS.get(owner, ()):
                what = f"{owner}.{func.attr}()"
            elif owner in ("torch", "serialization") and func.attr == "load":
                if _keyword(node, "weights_only") is not True:
                    what = "torch.load() without weights_only=True"
            elif owner in ("np", "numpy") and func.attr == "load":
                if _keyword(node, "allow_pickle") is not False:
                    what = "np.load() without allow_pickle=False"
        if what:
            found.append(f"{filename}:{node.lineno}: {what}")
    return found


def test_the_package_source_has_no_call_that_runs_code_from_a_file():
    files = sorted(p for top in SOURCES for p in (ROOT / top).rglob("*.py"))
    assert len(files) > 20
    found = [
        hit
        for path in files
        for hit in unsafe_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "eval(text)",
        "exec(code)",
        "pickle.load(fh)",
        "pickle.loads(data)",
        "from pickle import loads",
        "torch.load(path)",
        "torch.load(path, weights_only=False)",
        "torch.serialization.load(path)",
        "torch.jit.load(path)",
        "np.load(path)",
        "numpy.load(path, allow_pickle=True)",
        "yaml.load(text)",
        "marshal.loads(data)",
    ],
)
def test_the_source_scan_catches_each_unsafe_call(snippet):
    assert unsafe_calls(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "model.eval()",
        "torch.load(buf, map_location='cpu', weights_only=True)",
        "np.load(path, allow_pickle=False)",
        "yaml.safe_load(text)",
        "json.loads(text)",
        "re.compile('x')",
        "ast.literal_eval(text)",
    ],
)
def test_the_source_scan_lets_safe_calls_pass(snippet):
    assert unsafe_calls(snippet) == []
