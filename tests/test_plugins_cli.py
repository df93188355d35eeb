"""`pairzoo plugins`: listing, JSON, and out-of-tree plugins found by a real interpreter."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from pairzoo.cli import main
from pairzoo.plugins import load_plugins

PLUGIN = """
from torch import nn
from pairzoo.hookspecs import hookimpl
from pairzoo.siamese import SiameseNet

__version__ = "0.9"

def make(*, feat_dim):
    return SiameseNet(nn.Sequential(nn.Flatten(), nn.Linear(784, feat_dim)), feat_dim, ["concat"], True)

@hookimpl
def register_architectures(register):
    register("{name}", make, params={{"feat_dim": 8}}, description="flat tower")
"""


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR", raising=False)
    yield
    load_plugins()


def run_cli(*args):
    result = CliRunner().invoke(main, ["plugins", *args])
    assert result.exit_code == 0, result.output
    return result.output


def by_name(listing):
    return {p["name"]: p for p in listing["plugins"]}


def pairzoo_json(tmp_path, *args, pythonpath=None):
    env = {**os.environ, "PYTHONPATH": str(pythonpath or "")}
    env.pop("PAIRZOO_PLUGINS_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "pairzoo", "plugins", "--json", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return by_name(json.loads(done.stdout))


def test_text_lists_every_builtin_with_provider_and_params():
    out = run_cli()
    for provider, kind, names in [
        (
            "pairzoo_plugins.architectures",
            "architecture",
            ["baseline", "resnet", "fpn", "improved_v2"],
        ),
        (
            "pairzoo_plugins.fusion_heads",
            "fusion head",
            ["diff", "concat", "product", "cosine", "l2", "residual"],
        ),
        ("pairzoo_plugins.losses", "loss", ["bce", "focal", "distill"]),
    ]:
        assert f"{provider} " in out and "(builtin)" in out
        for name in names:
            assert f"  {kind} {name}" in out
    assert 'block="basic"' in out and "layers=[2, 2, 2]" in out


def test_json_describes_items_with_defaults():
    plugins = by_name(json.loads(run_cli("--json")))
    arch = plugins["pairzoo_plugins.architectures"]
    assert arch["source"] == "builtin" and arch["error"] is None
    resnet = next(i for i in arch["registered"]["architectures"] if i["name"] == "resnet")
    assert resnet["params"]["layers"] == [2, 2, 2]
    assert resnet["params"]["heads"] == ["diff", "concat", "product"]
    assert resnet["plugin"] == "pairzoo_plugins.architectures"


def test_broken_plugin_is_listed_with_its_error(tmp_path):
    (tmp_path / "bad.py").write_text("import not_a_module_anywhere\n")
    out = run_cli("--plugins-dir", str(tmp_path))
    assert "file:bad" in out
    assert "BROKEN: ModuleNotFoundError: No module named 'not_a_module_anywhere'" in out
    assert "  architecture resnet" in out


def test_missing_dir_is_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["plugins", "--plugins-dir", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_entry_point_plugin_of_an_installed_distribution(tmp_path):
    site = tmp_path / "site"
    dist_info = site / "myplug-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[pairzoo]\nflat = myplug_models\n")
    (site / "myplug_models.py").write_text(textwrap.dedent(PLUGIN.format(name="myflat")))
    plugins = pairzoo_json(tmp_path, pythonpath=site)
    info = plugins["myplug.flat"]
    assert info["version"] == "1.0"  # the distribution's version, not the module's
    assert info["source"] == "entry point (myplug)"
    assert info["error"] is None
    (item,) = info["registered"]["architectures"]
    assert (item["name"], item["params"], item["plugin_version"]) == (
        "myflat",
        {"feat_dim": 8},
        "1.0",
    )
    assert "pairzoo_plugins.architectures" in plugins


def test_loose_file_plugin_through_plugins_dir(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "flatfile.py").write_text(textwrap.dedent(PLUGIN.format(name="flatfile")))
    plugins = pairzoo_json(tmp_path, "--plugins-dir", str(loose))
    info = plugins["file:flatfile"]
    assert (info["version"], info["error"]) == ("0.9", None)
    assert info["source"] == f"file {loose / 'flatfile.py'}"
    assert [i["name"] for i in info["registered"]["architectures"]] == ["flatfile"]


def test_root_plugins_dir_reaches_the_command_and_the_processes_it_starts(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "rootfile.py").write_text(textwrap.dedent(PLUGIN.format(name="rootfile")))
    result = CliRunner().invoke(main, ["--plugins-dir", str(loose), "plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert "file:rootfile" in by_name(json.loads(result.output))
    assert "PAIRZOO_PLUGINS_DIR" not in os.environ  # set for the command's time only

    from pairzoo.plugins import use_plugins_dir

    restore = use_plugins_dir(loose)
    try:
        code = "from pairzoo.plugins import catalog; print(sorted(catalog().architectures))"
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    finally:
        restore()
    assert child.returncode == 0, child.stderr
    assert "rootfile" in child.stdout
    assert "PAIRZOO_PLUGINS_DIR" not in os.environ


def test_command_module_does_not_import_torch():
    code = "import sys, pairzoo.cli.plugins_cmd; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
