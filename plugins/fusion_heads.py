"""Builtin fusion heads: each computes its own feature of the two embeddings and maps it to a logit.

Order-aware heads (``concat``, ``residual``) see which image is left; symmetric heads (``diff``,
``product``, ``cosine``, ``l2``) give the same logit for (a, b) and (b, a) and say so with
``symmetric = True``, which the combiner uses under antisymmetry.
"""

import torch
from torch import nn

from pairzoo.hookspecs import hookimpl

__all__ = [
    "FusionHead",
    "DiffHead",
    "ConcatHead",
    "ProductHead",
    "CosineHead",
    "L2Head",
    "ResidualHead",
]

EPS = 1e-8


class FusionHead(nn.Module):
    symmetric = False
    width = 1  # feature size in units of feat_dim; 0 for a scalar feature

    def __init__(self, feat_dim: int, hidden: int = 64) -> None:
        super().__init__()
        if not isinstance(feat_dim, int) or feat_dim < 1:
            raise ValueError(f"feat_dim must be a positive int, got {feat_dim!r}")
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1, got {hidden!r}")
        if self.width:
            self.score = nn.Sequential(
                nn.Linear(self.width * feat_dim, hidden),
                nn.ReLU(inplace=True),
                nn.Linear(hidden, 1),
            )
        else:  # a scalar feature needs only a scale and a bias
            self.score = nn.Linear(1, 1)

    def feature(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return self.score(self.feature(ea, eb)).squeeze(1)


class DiffHead(FusionHead):
    symmetric = True

    def feature(self, ea, eb):
        return torch.abs(ea - eb)


class ConcatHead(FusionHead):
    width = 2

    def feature(self, ea, eb):
        return torch.cat([ea, eb], dim=1)


class ProductHead(FusionHead):
    symmetric = True

    def feature(self, ea, eb):
        return ea * eb


class CosineHead(FusionHead):
    symmetric = True
    width = 0

    def feature(self, ea, eb):
        dot = (ea * eb).sum(1, keepdim=True)
        norms = torch.sqrt((ea * ea).sum(1, keepdim=True) * (eb * eb).sum(1, keepdim=True) + EPS)
        return dot / norms


class L2Head(FusionHead):
    symmetric = True
    width = 0

    def feature(self, ea, eb):
        # eps inside the root keeps the gradient finite when a == b
        return torch.sqrt(((ea - eb) ** 2).sum(1, keepdim=True) + EPS)


class ResidualHead(FusionHead):
    def feature(self, ea, eb):
        return ea - eb


HEADS = {
    "diff": (DiffHead, {"hidden": 64}, "|a - b| through a small MLP (symmetric)"),
    "concat": (ConcatHead, {"hidden": 64}, "[a, b] through a small MLP (order-aware)"),
    "product": (ProductHead, {"hidden": 64}, "a * b elementwise through a small MLP (symmetric)"),
    "cosine": (CosineHead, {}, "cos(a, b), scaled and shifted (symmetric)"),
    "l2": (L2Head, {}, "||a - b||, scaled and shifted (symmetric)"),
    "residual": (ResidualHead, {"hidden": 64}, "a - b through a small MLP (order-aware)"),
}


@hookimpl
def register_fusion_heads(register):
    for name, (cls, params, description) in HEADS.items():
        register(name, cls, params=params, description=description)
