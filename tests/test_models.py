"""Every registered architecture, fusion head and loss: the tests of `pairzoo plugins check`.

Parametrised over what the plugin manager discovered, so a new plugin is tested the moment it is
registered; the tests are pairzoo.plugin_check's own functions, so the builtins and a plugin under
`pairzoo plugins check` are held to the same checks.
"""

import json

import pytest
import torch

from pairzoo.contract import check_architecture, check_fusion_head, check_loss
from pairzoo.errors import ConfigError, PluginError
from pairzoo.plugin_check.learning import onnx_parity
from pairzoo.plugin_check.model_checks import (
    HEAD_FEAT_DIM,
    backward,
    forward_aux,
    head_backward,
    head_swap,
    loss_backward,
    pairs,
    swap,
)
from pairzoo.plugins import build_architecture, build_fusion_head, build_loss, catalog

ARCHS = sorted(catalog().architectures)
HEADS = sorted(catalog().fusion_heads)
LOSSES = sorted(catalog().losses)
SMALL = {"width_mult": 0.25, "feat_dim": 16, "layers": [1, 1]}
ORDER_AWARE = {"concat", "residual"}


def small_params(name, **extra):
    params = catalog().architectures[name].params
    return {k: v for k, v in {**SMALL, **extra}.items() if k in params}


def build_small(name, **extra):
    torch.manual_seed(0)
    return build_architecture(name, small_params(name, **extra))


def test_builtins_are_registered():
    assert {"baseline", "resnet", "fpn", "improved_v2"} <= set(ARCHS)


@pytest.mark.parametrize("name", ARCHS)
def test_forward_and_aux_shapes(name):
    model = build_small(name)
    check_architecture(model, name)
    (logit, _), _ = forward_aux(model)  # every builtin has forward_aux: a Skip fails here
    assert logit.shape == (3,) and logit.dtype == torch.float32
    assert torch.isfinite(logit).all()


@pytest.mark.parametrize("name", ARCHS)
def test_backward_reaches_every_parameter(name):
    model = build_small(name)
    assert all(p.requires_grad for p in model.parameters())  # no builtin freezes a parameter
    backward(model)


@pytest.mark.parametrize("name", ARCHS)
def test_onnx_export_matches_torch(name, tmp_path):
    onnx_parity(build_small(name), tmp_path / f"{name}.onnx")


@pytest.mark.parametrize(
    "name", [a for a in ARCHS if "antisymmetric" in catalog().architectures[a].params]
)
def test_antisymmetric_prediction_flips_with_swap(name):
    model = build_small(name, antisymmetric=True)
    swap(catalog().architectures[name], model, small_params(name, antisymmetric=True))


@pytest.mark.parametrize("name", HEADS)
def test_fusion_head_contract_backward_and_swap(name):
    """A finite (N,) output that trains both embeddings, and `symmetric` as it claims."""
    torch.manual_seed(0)
    head = build_fusion_head(name, HEAD_FEAT_DIM)
    assert isinstance(head.symmetric, bool)  # optional for a plugin, stated by every builtin
    check_fusion_head(head, HEAD_FEAT_DIM, name)
    head_backward(head)
    head_swap(head)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_contract_and_backward(name):
    """At its defaults: a finite scalar that trains the logits, lower when they agree with the
    labels, and given a teacher when it says it needs one."""
    loss = build_loss(name, {})
    check_loss(loss, name)
    loss_backward(loss)


@pytest.mark.parametrize("name", ARCHS)
def test_defaults_are_json(name):
    params = catalog().architectures[name].params
    assert json.loads(json.dumps(params)) == params


@pytest.mark.parametrize("name", ["baseline", "resnet", "fpn", "improved_v2"])
def test_default_heads_see_order(name):
    assert ORDER_AWARE & set(catalog().architectures[name].params["heads"])


@pytest.mark.parametrize(("block", "attention"), [("bottleneck", "cbam"), ("basic", "none")])
def test_resnet_variants(block, attention):
    model = build_small("resnet", block=block, attention=attention).eval()
    with torch.no_grad():
        assert model(*pairs(2)).shape == (2,)


def test_improved_v2_has_real_cbam_and_six_heads():
    from pairzoo_plugins.architectures.blocks import CBAM

    model = build_small("improved_v2")
    cbams = [m for m in model.modules() if isinstance(m, CBAM)]
    assert cbams and all(m.spatial[0].kernel_size == (7, 7) for m in cbams)
    assert model.fusion.names == ["diff", "concat", "product", "cosine", "l2", "residual"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"block": "x"}, "block must be basic or bottleneck, got 'x'"),
        ({"attention": "sse"}, "attention must be se or cbam or none, got 'sse'"),
        ({"layers": []}, "layers must be a list"),
        ({"layers": [2, 0]}, "layers must be a list"),
        ({"width_mult": -1.0}, "width_mult must be positive"),
        ({"feat_dim": 0}, "feat_dim must be a positive int"),
        ({"heads": ["diff", "l2"]}, "antisymmetric"),
        ({"width_mult": "wide"}, "parameter 'width_mult' must be float"),
        ({"depth": 3}, "has no parameter 'depth'"),
    ],
)
def test_bad_params_name_the_parameter(params, message):
    with pytest.raises(ConfigError, match="resnet") as info:
        build_architecture("resnet", params)
    assert message in str(info.value)


def test_unknown_head_lists_available():
    with pytest.raises(
        PluginError, match=r"unknown fusion head 'concatt' \(available: concat, cosine"
    ):
        build_architecture("resnet", {"heads": ["concatt"]})


def test_unknown_architecture_lists_available():
    with pytest.raises(PluginError, match=r"unknown architecture 'resnett' \(available: .*resnet"):
        build_architecture("resnett", {})
