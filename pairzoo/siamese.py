"""Siamese pair models: one shared tower, fusion heads mixed with learned softmax weights.

The core knows no concrete tower. An architecture plugin builds a tower that maps images
(B, 1, 28, 28) to embeddings (B, feat_dim) and wraps it in :class:`SiameseNet`, naming the fusion
heads (plugins themselves, built through :func:`pairzoo.plugins.build_fusion_head`).

Antisymmetry. With ``antisymmetric=True`` the logit is ``f(a, b) - f(b, a)``, where ``f`` is the
softmax-weighted mix of the heads, so swapping the two images flips the logit exactly. A head
whose own output is symmetric in its two inputs (it declares ``symmetric = True``, like
``diff``, ``product``, ``cosine`` and ``l2``) contributes exactly zero to that difference, so it
is left out: the mixing weights are a softmax over the order-aware heads only (those that do not
declare themselves symmetric, as ``Catalog.order_aware_heads`` lists them), and the left-out
names are in :attr:`FusionCombiner.dropped`. If no order-aware head remains, the logit would always be 0, so
construction fails with a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from pairzoo.plugins import build_fusion_head, catalog

__all__ = ["FusionCombiner", "SiameseNet", "DIGIT_CLASSES"]

DIGIT_CLASSES = 10


class FusionCombiner(nn.Module):
    """Mix fusion heads: ``logit = sum_k softmax(mix)_k * head_k(ea, eb)``.

    :param feat_dim: embedding size the heads receive.
    :param heads: fusion-head names, in order; each is built once.
    :param antisymmetric: compute ``f(a, b) - f(b, a)`` (see the module docstring).
    :param head_params: optional ``{head name: params}`` passed to each head's factory.

    ``names`` lists the heads that take part, ``dropped`` the symmetric heads left out under
    antisymmetry; ``weights()`` returns the current mixing weights (summing to 1).
    """

    def __init__(
        self,
        feat_dim: int,
        heads: Sequence[str],
        antisymmetric: bool = False,
        head_params: Mapping[str, Mapping] | None = None,
    ) -> None:
        super().__init__()
        heads = list(heads)
        if not heads or not all(isinstance(h, str) for h in heads):
            raise ValueError(f"heads must be a non-empty list of fusion-head names, got {heads!r}")
        for name in heads:
            if heads.count(name) > 1:
                raise ValueError(f"heads lists '{name}' twice, got {heads!r}")
        head_params = dict(head_params or {})
        built = {
            name: build_fusion_head(name, feat_dim, dict(head_params.get(name, {})))
            for name in heads
        }
        self.antisymmetric = bool(antisymmetric)
        self.dropped = [
            n for n, h in built.items() if antisymmetric and getattr(h, "symmetric", False)
        ]
        self.names = [n for n in heads if n not in self.dropped]
        if not self.names:
            aware = ", ".join(catalog().order_aware_heads()) or "none is registered"
            raise ValueError(
                f"heads {heads!r} are all symmetric: with antisymmetric true their contributions "
                f"cancel and the logit would always be 0; add an order-aware head ({aware}) "
                "or set antisymmetric false"
            )
        self.heads = nn.ModuleDict({n: built[n] for n in self.names})
        self.mix = nn.Parameter(torch.zeros(len(self.names)))

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.mix, dim=0)

    def mixed(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        logits = torch.stack([head(ea, eb) for head in self.heads.values()], dim=1)
        return logits @ self.weights()

    def forward(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        if not self.antisymmetric:
            return self.mixed(ea, eb)
        # Both orders in one batch: one pass through each head instead of two.
        n = ea.shape[0]
        both = self.mixed(torch.cat([ea, eb]), torch.cat([eb, ea]))
        return both[:n] - both[n:]


class SiameseNet(nn.Module):
    """A pair model: ``forward(xa, xb) -> logit (N,)``, ``forward_aux`` adds digit logits.

    :param tower: module mapping images (B, 1, 28, 28) to embeddings (B, feat_dim).
    :param feat_dim: the tower's embedding size.
    :param heads: fusion-head names mixed by a :class:`FusionCombiner`.
    :param antisymmetric: make ``logit(a, b) == -logit(b, a)``.
    :param head_params: optional ``{head name: params}``.

    The tower runs once on ``cat([xa, xb])`` (one batch of 2N). ``forward_aux`` also returns
    ``(N, 2, 10)`` digit logits of the left and right image from a linear classifier on the
    shared embedding, for auxiliary supervision; ``forward`` (and so ONNX export) skips it. A
    head that reads digits itself (it has a ``digit_classifier`` module, like ``posterior``)
    lends that classifier, so the digit supervision trains what the head combines.
    """

    def __init__(
        self,
        tower: nn.Module,
        feat_dim: int,
        heads: Sequence[str],
        antisymmetric: bool = False,
        head_params: Mapping[str, Mapping] | None = None,
    ) -> None:
        super().__init__()
        self.tower = tower
        self.feat_dim = int(feat_dim)
        self.fusion = FusionCombiner(feat_dim, heads, antisymmetric, head_params)
        lent = [h.digit_classifier for h in self.fusion.heads.values() if _reads_digits(h)]
        self.digits = lent[0] if lent else nn.Linear(feat_dim, DIGIT_CLASSES)

    def embed(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = xa.shape[0]
        emb = self.tower(torch.cat([xa, xb]))
        return emb[:n], emb[n:]

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return self.fusion(*self.embed(xa, xb))

    def forward_aux(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ea, eb = self.embed(xa, xb)
        digits = torch.stack([self.digits(ea), self.digits(eb)], dim=1)
        return self.fusion(ea, eb), digits


def _reads_digits(head: nn.Module) -> bool:
    return isinstance(getattr(head, "digit_classifier", None), nn.Module)
