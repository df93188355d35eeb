"""The plugin manager: discovery, isolation of broken plugins, clashes and error messages."""

import re
import textwrap
from pathlib import Path

import pytest
import torch

from pairzoo.errors import ConfigError, PluginError
from pairzoo.plugins import (
    build_architecture,
    build_loss,
    catalog,
    get_registered,
    load_plugins,
)

README = Path(__file__).resolve().parents[1] / "plugins" / "README.md"

ARCH_PLUGIN = """
from torch import nn
from pairzoo.hookspecs import hookimpl
from pairzoo.siamese import SiameseNet

__version__ = "2.3"

def make(*, feat_dim):
    tower = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, feat_dim))
    return SiameseNet(tower, feat_dim, ["concat"], True)

@hookimpl
def register_architectures(register):
    register("{name}", make, params={{"feat_dim": 8}}, description="flat")
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("PAIRZOO_PLUGINS_DIR", raising=False)
    yield tmp_path
    load_plugins()  # back to the builtins for the other tests


def write(directory, name, code):
    (directory / f"{name}.py").write_text(textwrap.dedent(code))


def plugin(cat, name):
    return next(p for p in cat.plugins if p.name == name)


def test_builtins_and_their_providers():
    cat = load_plugins()
    expected = {  # family -> {providing module: names}
        "architectures": {
            "pairzoo_plugins.architectures": {"baseline", "resnet", "fpn", "improved_v2"}
        },
        "fusion_heads": {
            "pairzoo_plugins.fusion_heads": {
                "diff",
                "concat",
                "product",
                "cosine",
                "l2",
                "residual",
            },
            "pairzoo_plugins.digit_posterior": {"posterior"},
        },
        "losses": {"pairzoo_plugins.losses": {"bce", "focal", "distill"}},
    }
    for family, providers in expected.items():
        given = {}
        for item in cat.family(family).values():
            given.setdefault(item.plugin, set()).add(item.name)
        assert given == providers
    builtin = [p for p in cat.plugins if p.source == "builtin"]
    assert len(builtin) == 5 and all(p.version == cat.plugins[0].version for p in builtin)


def test_loose_plugin_is_loaded_with_its_version(plugin_dir):
    write(plugin_dir, "flat", ARCH_PLUGIN.format(name="flat"))
    cat = load_plugins(plugin_dir)
    info = plugin(cat, "file:flat")
    assert (info.version, info.error) == ("2.3", None)
    assert info.source == f"file {plugin_dir / 'flat.py'}"
    assert get_registered("architectures", "flat").plugin_version == "2.3"
    model = build_architecture("flat", {}).eval()
    x = torch.rand(2, 1, 28, 28)
    assert model(x, x.flip(0)).shape == (2,)


def test_environment_variable_names_the_directory(plugin_dir, monkeypatch):
    write(plugin_dir, "flat", ARCH_PLUGIN.format(name="flat"))
    monkeypatch.setenv("PAIRZOO_PLUGINS_DIR", str(plugin_dir))
    assert "flat" in load_plugins().architectures


def test_broken_plugin_is_isolated_and_named(plugin_dir):
    write(plugin_dir, "bad", "raise RuntimeError('boom at import')\n")
    cat = load_plugins(plugin_dir)
    assert plugin(cat, "file:bad").error == "RuntimeError: boom at import"
    model = build_architecture("resnet", {"width_mult": 0.25, "layers": [1]})
    assert model is not None and "bce" in cat.losses
    with pytest.raises(PluginError) as info:
        build_architecture("fancy", {})
    message = str(info.value)
    assert "unknown architecture 'fancy'" in message
    assert "'file:bad' (RuntimeError: boom at import)" in message


def test_plugin_failing_while_registering_contributes_nothing(plugin_dir):
    write(
        plugin_dir,
        "half",
        ARCH_PLUGIN.format(name="half")
        + "\n@hookimpl\ndef register_losses(register):\n    raise KeyError('no loss today')\n",
    )
    cat = load_plugins(plugin_dir)
    assert "register_losses failed: KeyError" in plugin(cat, "file:half").error
    assert "half" not in cat.architectures


def test_misspelt_hook_breaks_only_that_plugin(plugin_dir):
    write(
        plugin_dir,
        "typo",
        """
        from pairzoo.hookspecs import hookimpl

        @hookimpl
        def register_architecture(register):
            pass
        """,
    )
    cat = load_plugins(plugin_dir)
    assert "unknown hook register_architecture" in plugin(cat, "file:typo").error
    assert "resnet" in cat.architectures


def test_invalid_registration_is_reported(plugin_dir):
    write(plugin_dir, "badname", ARCH_PLUGIN.format(name="Bad Name"))
    cat = load_plugins(plugin_dir)
    assert "invalid name 'Bad Name'" in plugin(cat, "file:badname").error


def test_duplicate_name_across_plugins_names_both(plugin_dir):
    write(plugin_dir, "one", ARCH_PLUGIN.format(name="twin"))
    write(plugin_dir, "two", ARCH_PLUGIN.format(name="twin"))
    cat = load_plugins(plugin_dir)
    assert "registered twice" in plugin(cat, "file:two").error
    with pytest.raises(PluginError, match="by plugin 'file:one' and by plugin 'file:two'"):
        build_architecture("twin", {})


def test_duplicate_of_a_builtin_names_both(plugin_dir):
    write(plugin_dir, "clash", ARCH_PLUGIN.format(name="resnet"))
    load_plugins(plugin_dir)
    with pytest.raises(
        PluginError, match="'pairzoo_plugins.architectures' and by plugin 'file:clash'"
    ):
        build_architecture("resnet", {})


def test_unknown_names_list_available():
    load_plugins()
    with pytest.raises(
        PluginError, match=re.escape("unknown loss 'bcee' (available: bce, distill, focal)")
    ):
        build_loss("bcee", {})


def test_param_type_errors_name_the_parameter():
    load_plugins()
    with pytest.raises(ConfigError, match="loss 'focal' parameter 'gamma' must be float, got '2'"):
        build_loss("focal", {"gamma": "2"})


def test_missing_plugins_dir_is_an_error(tmp_path):
    with pytest.raises(PluginError, match="does not exist"):
        load_plugins(tmp_path / "nowhere")
    load_plugins()


def test_readme_example_really_works(plugin_dir):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "def register_architectures" in b)
    (plugin_dir / "tinynet.py").write_text(example)
    cat = load_plugins(plugin_dir)
    assert plugin(cat, "file:tinynet").error is None
    assert cat.architectures["tinynet"].plugin_version == "0.1.0"
    model = build_architecture("tinynet", {"channels": 4}).eval()
    xa, xb = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(xa, xb), -model(xb, xa), atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="channels must be at least 1, got 0"):
        build_architecture("tinynet", {"channels": 0})


def test_catalog_is_cached_and_reloadable():
    first = load_plugins()
    assert catalog() is first
    assert load_plugins() is not first


ORDER_AWARE_HEAD = """
import torch
from torch import nn
from pairzoo.hookspecs import hookimpl

class Left(nn.Module):
    def __init__(self, feat_dim):
        super().__init__()
        self.fc = nn.Linear(feat_dim, 1)

    def forward(self, ea, eb):
        return self.fc(ea).squeeze(1)

@hookimpl
def register_fusion_heads(register):
    register("leftonly", Left)
"""


def test_the_refusal_of_all_symmetric_heads_names_the_registered_order_aware_ones(plugin_dir):
    from pairzoo.siamese import FusionCombiner

    assert catalog().order_aware_heads() == ["concat", "posterior", "residual"]
    (plugin_dir / "leftonly.py").write_text(ORDER_AWARE_HEAD)
    load_plugins(plugin_dir)
    assert catalog().order_aware_heads() == ["concat", "leftonly", "posterior", "residual"]
    aware = r"concat, leftonly, posterior, residual"
    with pytest.raises(ValueError, match=rf"add an order-aware head \({aware}\)"):
        FusionCombiner(8, ["diff", "product"], antisymmetric=True)


TUNABLE_PLUGIN = """
from pairzoo.hookspecs import hookimpl

@hookimpl
def register_architectures(register):
    register("{name}", lambda **kw: None, params={{"width": 4, "depth": 3}}, tunable={tunable})
"""


@pytest.mark.parametrize(
    ("tunable", "message"),
    [
        ('{"nope": {"scale": 2}}', "tunable 'nope', which is no numeric parameter"),
        ('{"depth": {"scale": 1}}', "expected {'scale': K} with K > 1"),
        ('{"depth": {"low": 5, "high": 1}}', "expected {'scale': K}"),
        ('{"depth": {"low": 0, "high": 4, "log": True}}', "expected {'scale': K}"),
        ('[("depth", 2)]', "expected a dict by parameter"),
    ],
)
def test_a_tunable_range_is_checked_when_it_is_registered(plugin_dir, tunable, message):
    write(plugin_dir, "tun", TUNABLE_PLUGIN.format(name="tun", tunable=tunable))
    info = plugin(load_plugins(plugin_dir), "file:tun")
    assert message in info.error and "tun" not in catalog().architectures
