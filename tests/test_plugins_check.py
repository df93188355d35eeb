"""`pairzoo plugins check`: the builtins' tests on a plugin, and plugins/README.md's package."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from plugin_mistakes import write_plugin

from pairzoo.cli import main
from pairzoo.plugins import load_plugins

README = Path(__file__).parent.parent / "plugins" / "README.md"


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR", raising=False)
    yield
    load_plugins()


def check(*args):
    return CliRunner().invoke(main, ["plugins", "check", *map(str, args)])


def test_wrong_output_shape_fails_with_a_table(tmp_path):
    path = write_plugin(tmp_path, "shape_mlp")
    result = check("file:shape_mlp", "--plugins-dir", tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "item                    test         result detail",
        "architecture shape_mlp  build        pass",
        "architecture shape_mlp  contract     FAIL   forward(xa, xb) returned shape (2, 1) for 2 "
        "pairs, expected shape (2,): one logit per pair",
        "architecture shape_mlp  forward_aux  skip   needs contract",
        "architecture shape_mlp  backward     skip   needs contract",
        "architecture shape_mlp  onnx parity  skip   needs contract",
        "architecture shape_mlp  swap         skip   needs contract",
        "architecture shape_mlp  learning     skip   needs contract",
        "1 passed, 1 failed, 5 skipped",
    ]
    assert path.exists()


def test_builtin_label_rules_pass():
    result = check("pairzoo_plugins.label_rules")
    assert result.exit_code == 0, result.output
    assert "label rule greater  swap         pass   on_swap 'flip' holds" in result.output
    assert "label rule same     swap         pass   on_swap 'keep' holds" in result.output
    assert result.output.splitlines()[-1] == "4 passed, 0 failed, 0 skipped"


def test_unknown_name_is_one_line():
    result = check("nosuchplugin")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: no plugin or registered item named 'nosuchplugin' (plugins: "
        "pairzoo_plugins.architectures, "
    )
    assert len(result.output.splitlines()) == 1


def _readme_block(section: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(section) :]
    match = re.search(rf"```{language}\n(.*?)```", after, re.S)
    return match.group(1)


def test_readme_package_installs_offline_and_passes_the_check(tmp_path):
    package = tmp_path / "pairzoo-tinynet"
    module = package / "src" / "pairzoo_tinynet"
    module.mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        _readme_block("## The same plugin as an installed package", "toml")
    )
    (module / "__init__.py").write_text(_readme_block("## A minimal architecture plugin", "python"))
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    pip += ["--no-index", "--no-build-isolation", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(package)], check=True, timeout=300, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("PAIRZOO_PLUGINS_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "pairzoo", "plugins", "check", "pairzoo-tinynet.tinynet"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.splitlines()
    tests = [row.split()[2:4] for row in rows[1:-1]]
    assert tests == [
        ["build", "pass"],
        ["contract", "pass"],
        ["forward_aux", "pass"],
        ["backward", "pass"],
        ["onnx", "parity"],
        ["swap", "pass"],
        ["learning", "pass"],
    ]
    assert "onnx parity  pass" in rows[5]
    assert rows[-1] == "7 passed, 0 failed, 0 skipped"
