"""The digit-posterior head: the rule's mask and pair prior, exact on digits read right."""

import json

import numpy as np
import pytest
import torch

from pairzoo.data.pair_prior import label_mask, pair_prior, pair_weights
from pairzoo.data.rules import LabelRule
from pairzoo.plugins import build_architecture, build_fusion_head, get_label_rule
from pairzoo.train.resolve import resolve_config

D = 10  # embeddings that are digit scores: an identity classifier reads them


def reading(head, scale=30.0):
    with torch.no_grad():
        head.digit_classifier.weight.copy_(torch.eye(D) * scale)
        head.digit_classifier.bias.zero_()
    return head


def one_hot(digits):
    return torch.nn.functional.one_hot(torch.as_tensor(digits), D).float()


def test_greater_mask_and_prior():
    rule = get_label_rule("greater")
    i, j = np.meshgrid(range(10), range(10), indexing="ij")
    assert (label_mask(rule) == (i > j)).all()
    prior = pair_prior(rule, 0.8)
    assert prior.sum() == pytest.approx(1.0)
    assert prior[np.abs(i - j) == 1].sum() == pytest.approx(0.8)
    assert (np.diag(prior) == 0).all() and (prior == prior.T).all()


@pytest.mark.parametrize(("name", "adjacent"), [("greater", 0.8), ("same", 0.3)])
def test_stated_prior_matches_the_sampler(name, adjacent):
    rule = get_label_rule(name)
    stated = pair_prior(rule, adjacent)
    estimated = pair_prior(LabelRule("copy", rule.label, rule.sample, rule.on_swap), adjacent)
    assert np.abs(stated - estimated).max() < 0.003  # 400,000 draws


def test_a_rule_without_a_prior_is_estimated_the_same_every_time():
    rule = get_label_rule("greater")
    bare = LabelRule("bare", rule.label, rule.sample, rule.on_swap)
    assert (pair_prior(bare, 0.5) == pair_prior(bare, 0.5)).all()


@pytest.mark.parametrize("adjacent", [0.0, 0.8, 1.0])
def test_exact_where_the_digits_are_read_right(adjacent):
    head = reading(build_fusion_head("posterior", D, {"adjacent": adjacent})).eval()
    prior = pair_prior(get_label_rule("greater"), adjacent)
    left, right = np.nonzero(prior)  # every pair the data can hold
    logits = head(one_hot(left), one_hot(right))
    assert ((logits > 0).numpy() == (left > right)).all()
    assert torch.allclose(head(one_hot(right), one_hot(left)), -logits)


def test_the_pair_prior_decides_between_two_readings():
    # The left image reads 3 or 8 alike, the right one 4: with 80% adjacent pairs, (3, 4) (label
    # 0) is (0.8 / 18) / (0.2 / 72) = 16 times likelier than (8, 4) (label 1); with none adjacent,
    # only (8, 4) can occur.
    a = torch.log(torch.tensor([[1e-6] * 3 + [0.5] + [1e-6] * 4 + [0.5, 1e-6]]))
    b = one_hot([4])
    for adjacent, expected in [(0.8, 1 / 17), (0.0, 1.0)]:
        head = build_fusion_head("posterior", D, {"adjacent": adjacent}).eval()
        with torch.no_grad():
            head.digit_classifier.weight.copy_(torch.eye(D))
            head.digit_classifier.bias.zero_()
            p1 = torch.sigmoid(head(a, b * 30) / head.scale).item()
        assert p1 == pytest.approx(expected, abs=1e-3)


def test_same_rule_reads_equal_digits():
    head = reading(build_fusion_head("posterior", D, {"rule": "same", "adjacent": 0.8})).eval()
    logits = head(one_hot([3, 3, 3, 7]), one_hot([3, 4, 9, 7]))
    assert (logits > 0).tolist() == [True, False, False, True]


def test_weights_undo_the_marginals():
    prior = pair_prior(get_label_rule("greater"), 0.8)
    w = pair_weights(prior)
    assert np.allclose(w * np.outer(prior.sum(1), prior.sum(0)), prior)


def test_the_model_trains_the_heads_digit_classifier():
    params = {"width_mult": 0.05, "feat_dim": 8, "heads": ["posterior", "concat"]}
    model = build_architecture("resnet", params)
    assert model.digits is model.fusion.heads["posterior"].digit_classifier
    xa, xb = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    _, digits = model.forward_aux(xa, xb)
    digits.sum().backward()
    assert model.fusion.heads["posterior"].digit_classifier.weight.grad is not None


def test_the_run_config_takes_rule_and_adjacency_from_the_data(tmp_path):
    (tmp_path / "train.npz").write_bytes(b"")  # only fingerprinted here
    (tmp_path / "meta.json").write_text(json.dumps({"rule": "greater", "adjacent": 0.35}))
    cfg = resolve_config(
        {"arch": "resnet", "arch_params": {"heads": ["posterior"]}, "data": str(tmp_path)}
    )
    assert cfg["arch_params"]["head_params"] == {"posterior": {"rule": "greater", "adjacent": 0.35}}
    given = {"heads": ["posterior"], "head_params": {"posterior": {"adjacent": 0.5}}}
    cfg = resolve_config({"arch": "resnet", "arch_params": given, "data": str(tmp_path)})
    assert cfg["arch_params"]["head_params"]["posterior"]["adjacent"] == 0.5


def test_a_bad_adjacency_in_the_data_names_the_file_and_key(tmp_path):
    (tmp_path / "train.npz").write_bytes(b"")
    (tmp_path / "meta.json").write_text(json.dumps({"rule": "greater", "adjacent": "most"}))
    with pytest.raises(Exception, match=r"meta.json: key 'adjacent' is 'most', expected a share"):
        resolve_config(
            {"arch": "resnet", "arch_params": {"heads": ["posterior"]}, "data": str(tmp_path)}
        )


def test_the_head_is_the_log_odds_of_its_pair_posterior():
    head = reading(build_fusion_head("posterior", D))
    ea, eb = torch.randn(5, D) * 3, torch.randn(5, D) * 3
    la, lb = torch.log_softmax(ea * 30, 1), torch.log_softmax(eb * 30, 1)
    joint = (la[:, :, None] + lb[:, None, :]).flatten(1)
    want = torch.logsumexp(joint + head.log_w1.flatten(), 1) - torch.logsumexp(
        joint + head.log_w0.flatten(), 1
    )
    torch.testing.assert_close(head(ea, eb), head.scale * want)


@pytest.fixture(scope="module")
def posterior_onnx(tmp_path_factory) -> bytes:
    from pairzoo.exporting.onnx_export import export_onnx

    torch.manual_seed(0)
    params = {"width_mult": 0.05, "feat_dim": 8, "heads": ["posterior"]}
    path = tmp_path_factory.mktemp("posterior") / "model.onnx"
    export_onnx(build_architecture("resnet", params).eval(), path)
    return path.read_bytes()


@pytest.mark.parametrize("batch", [1, 7])
def test_a_posterior_model_runs_in_openvino_as_in_onnxruntime(posterior_onnx, batch):
    pytest.importorskip(
        "openvino", reason="openvino is not installed (pip install 'pairzoo[openvino]')"
    )
    from pairzoo.runtime.backends import open_runtime
    from pairzoo.runtime.runtimes import get_runtime

    rng = np.random.default_rng(batch)
    feeds = {k: rng.random((batch, 1, 28, 28), dtype=np.float32) for k in ("xa", "xb")}
    (want,) = open_runtime(posterior_onnx, get_runtime("ort")).run(None, feeds)
    (got,) = open_runtime(posterior_onnx, get_runtime("openvino-fp32")).run(None, feeds)
    assert got.shape == want.shape == (batch,)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
