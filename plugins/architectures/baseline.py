"""Baseline pair model: a small three-convolution CNN tower."""

from torch import nn

from pairzoo.siamese import SiameseNet

from ._checks import check_feat_dim, check_width, scaled
from .blocks import Embedding, conv_bn

__all__ = ["BaselineTower", "DEFAULTS", "baseline"]

WIDTHS = (32, 64, 128)


class BaselineTower(nn.Module):
    def __init__(self, width_mult: float, feat_dim: int) -> None:
        super().__init__()
        c1, c2, c3 = (scaled(c, width_mult) for c in WIDTHS)
        self.features = nn.Sequential(
            conv_bn(1, c1),
            nn.MaxPool2d(2),
            conv_bn(c1, c2),
            nn.MaxPool2d(2),
            conv_bn(c2, c3),
        )
        self.embedding = Embedding(c3, feat_dim)

    def forward(self, x):
        return self.embedding(self.features(x))


DEFAULTS = {
    "width_mult": 1.0,
    "feat_dim": 128,
    "heads": ["diff", "concat", "product"],
    "antisymmetric": True,
    "head_params": None,  # {head name: params}; the trainer fills a data-driven head's in
}


def baseline(*, width_mult, feat_dim, heads, antisymmetric, head_params):
    tower = BaselineTower(check_width(width_mult), check_feat_dim(feat_dim))
    return SiameseNet(tower, feat_dim, heads, antisymmetric, head_params)
