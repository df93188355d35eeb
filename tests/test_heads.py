"""Fusion heads and the combiner: each head computes and uses its own feature."""

import pytest
import torch

from pairzoo.plugins import build_fusion_head, catalog
from pairzoo.siamese import FusionCombiner

D = 8
ALL_HEADS = ["diff", "concat", "product", "cosine", "l2", "residual"]  # the builtins
SYMMETRIC = {"diff", "product", "cosine", "l2"}
HEADS = sorted(catalog().fusion_heads)  # every registered head, a third-party one too


def embeddings(n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, D, generator=g), torch.randn(n, D, generator=g)


def expected_feature(name, a, b):
    # Written out from the definitions, independently of the heads' code.
    if name == "diff":
        return (a - b).abs()
    if name == "concat":
        return torch.cat([a, b], 1)
    if name == "product":
        return a * b
    if name == "residual":
        return a - b
    if name == "cosine":
        dot = sum(a[:, i] * b[:, i] for i in range(D))
        na = sum(a[:, i] ** 2 for i in range(D)) ** 0.5
        nb = sum(b[:, i] ** 2 for i in range(D)) ** 0.5
        return (dot / (na * nb)).unsqueeze(1)
    if name == "l2":
        return (sum((a[:, i] - b[:, i]) ** 2 for i in range(D)) ** 0.5).unsqueeze(1)
    raise AssertionError(name)


# transforms of (a, b) that leave the head's own feature unchanged
def _swap(a, b):
    return b, a


def _shift(a, b):
    return a + 1.5, b + 1.5


def _rescale_pair(a, b):
    return a * 2.0, b / 2.0


def _scale_each(a, b):
    return a * 3.0, b * 0.5


def _permute(a, b):
    perm = torch.arange(D - 1, -1, -1)
    return a[:, perm], b[:, perm]


INVARIANT = {
    "diff": [_swap, _shift],
    "concat": [],
    "product": [_swap, _rescale_pair],
    "cosine": [_swap, _scale_each, _permute],
    "l2": [_swap, _shift, _permute],
    "residual": [_shift],
}
# transforms that change the head's own feature (and so must change its output)
VARYING = {
    "diff": [lambda a, b: (a + 0.5 * (a - b), b)],
    "concat": [_swap, _shift],
    "product": [_shift],
    "cosine": [_shift],
    "l2": [lambda a, b: (a + (a - b), b)],
    "residual": [_swap, _scale_each],
}


def test_builtin_heads_are_registered():
    assert set(ALL_HEADS) <= set(HEADS)


@pytest.mark.parametrize("name", ALL_HEADS)
def test_feature_is_the_defined_one(name):
    head = build_fusion_head(name, D)
    a, b = embeddings()
    torch.testing.assert_close(
        head.feature(a, b), expected_feature(name, a, b), atol=1e-5, rtol=1e-5
    )
    assert head.symmetric == (name in SYMMETRIC)


@pytest.mark.parametrize("name", ALL_HEADS)
def test_logit_has_gradient_wrt_own_feature(name):
    torch.manual_seed(0)
    head = build_fusion_head(name, D)
    a, b = embeddings()
    feature = head.feature(a, b).detach().requires_grad_(True)
    head.score(feature).sum().backward()
    assert feature.grad.abs().sum() > 0
    # and the forward pass is exactly score(feature)
    torch.testing.assert_close(head(a, b), head.score(head.feature(a, b)).squeeze(1))


@pytest.mark.parametrize("name", ALL_HEADS)
def test_output_follows_own_feature_only(name):
    torch.manual_seed(1)
    head = build_fusion_head(name, D).eval()
    a, b = embeddings()
    base = head(a, b)
    assert base.shape == (5,)
    for transform in INVARIANT[name]:
        torch.testing.assert_close(head(*transform(a, b)), base, atol=1e-5, rtol=1e-5)
    for transform in VARYING[name]:
        assert not torch.allclose(head(*transform(a, b)), base, atol=1e-4), transform


def test_every_head_weight_moves_the_combined_logit():
    torch.manual_seed(2)
    comb = FusionCombiner(D, ALL_HEADS, antisymmetric=False)
    a, b = embeddings()
    base = comb(a, b).detach()
    assert comb.names == ALL_HEADS and comb.dropped == []
    for name, head in comb.heads.items():
        last = [p for p in head.parameters() if p.dim() == 2][-1]
        with torch.no_grad():
            last.add_(0.5)
        assert not torch.allclose(comb(a, b), base, atol=1e-5), name
        with torch.no_grad():
            last.sub_(0.5)
    for k in range(len(ALL_HEADS)):
        with torch.no_grad():
            comb.mix[k] += 1.0
        assert not torch.allclose(comb(a, b), base, atol=1e-6), ALL_HEADS[k]
        with torch.no_grad():
            comb.mix[k] -= 1.0
    torch.testing.assert_close(comb.weights().sum(), torch.tensor(1.0))


def test_combiner_is_the_softmax_mix_of_heads():
    torch.manual_seed(3)
    comb = FusionCombiner(D, ["diff", "concat", "cosine"])
    with torch.no_grad():
        comb.mix.copy_(torch.tensor([0.3, -1.0, 2.0]))
    a, b = embeddings()
    e = [float(torch.exp(torch.tensor(v))) for v in (0.3, -1.0, 2.0)]
    w = [v / sum(e) for v in e]
    expected = sum(
        wk * comb.heads[n](a, b) for wk, n in zip(w, ["diff", "concat", "cosine"], strict=True)
    )
    torch.testing.assert_close(comb(a, b), expected, atol=1e-5, rtol=1e-5)


def test_antisymmetric_combiner_drops_symmetric_heads_and_flips():
    torch.manual_seed(4)
    comb = FusionCombiner(D, ALL_HEADS, antisymmetric=True)
    assert comb.names == ["concat", "residual"]
    assert comb.dropped == ["diff", "product", "cosine", "l2"]
    a, b = embeddings()
    torch.testing.assert_close(comb(a, b), -comb(b, a), atol=1e-6, rtol=0)
    assert comb(a, b).abs().sum() > 0


def test_antisymmetric_with_only_symmetric_heads_is_refused():
    with pytest.raises(ValueError, match="antisymmetric"):
        FusionCombiner(D, ["diff", "l2"], antisymmetric=True)


def test_combiner_rejects_repeated_and_empty_heads():
    with pytest.raises(ValueError, match="twice"):
        FusionCombiner(D, ["concat", "concat"])
    with pytest.raises(ValueError, match="non-empty"):
        FusionCombiner(D, [])
