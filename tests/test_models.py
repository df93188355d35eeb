"""Every registered architecture: forward, backward, auxiliary digits, ONNX export and parity.

Parametrised over what the plugin manager discovered, so a new architecture plugin is tested
the moment it is registered.
"""

import json

import numpy as np
import pytest
import torch

from pairzoo.errors import ConfigError, PluginError
from pairzoo.plugins import build_architecture, catalog

ARCHS = sorted(catalog().architectures)
SMALL = {"width_mult": 0.25, "feat_dim": 16, "layers": [1, 1]}
ORDER_AWARE = {"concat", "residual"}


def small_params(name, **extra):
    params = catalog().architectures[name].params
    return {k: v for k, v in {**SMALL, **extra}.items() if k in params}


def pairs(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.rand(n, 1, 28, 28, generator=g)


def build_small(name, **extra):
    torch.manual_seed(0)
    return build_architecture(name, small_params(name, **extra))


def test_builtins_are_registered():
    assert {"baseline", "resnet", "fpn", "improved_v2"} <= set(ARCHS)


@pytest.mark.parametrize("name", ARCHS)
def test_forward_and_aux_shapes(name):
    model = build_small(name).eval()
    xa, xb = pairs(3)
    with torch.no_grad():
        logit = model(xa, xb)
        aux_logit, digits = model.forward_aux(xa, xb)
    assert logit.shape == (3,) and logit.dtype == torch.float32
    assert torch.isfinite(logit).all()
    torch.testing.assert_close(aux_logit, logit)
    assert digits.shape == (3, 2, 10)


@pytest.mark.parametrize("name", ARCHS)
def test_backward_reaches_every_parameter(name):
    model = build_small(name).train()
    xa, xb = pairs(4)
    logit, digits = model.forward_aux(xa, xb)
    (logit.sum() + digits.square().mean()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    assert sum(float(p.grad.abs().sum()) for p in model.parameters()) > 0


@pytest.mark.parametrize("name", ARCHS)
def test_onnx_export_matches_torch(name, tmp_path):
    import onnxruntime as ort

    model = build_small(name).eval()
    path = tmp_path / f"{name}.onnx"
    xa, xb = pairs(2)
    torch.onnx.export(
        model,
        (xa, xb),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["xa", "xb"],
        output_names=["logit"],
        dynamic_axes={"xa": {0: "batch"}, "xb": {0: "batch"}, "logit": {0: "batch"}},
    )
    xa, xb = pairs(5, seed=1)  # another batch size than at export
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logit"], {"xa": xa.numpy(), "xb": xb.numpy()})
    with torch.no_grad():
        expected = model(xa, xb).numpy()
    assert got.shape == (5,)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "name", [a for a in ARCHS if "antisymmetric" in catalog().architectures[a].params]
)
def test_antisymmetric_prediction_flips_with_swap(name):
    model = build_small(name, antisymmetric=True).eval()
    xa, xb = pairs(4)
    with torch.no_grad():
        forward, swapped = model(xa, xb), model(xb, xa)
    assert forward.abs().max() > 0
    torch.testing.assert_close(forward, -swapped, atol=1e-5, rtol=0)


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
