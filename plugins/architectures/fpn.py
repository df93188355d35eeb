"""FPN pair model: the ResNet body with a top-down feature pyramid over every stage.

Each stage's map goes through a 1x1 lateral convolution to the first stage's width; coarser
levels are upsampled (nearest, to sizes fixed at construction, so export sees no shape logic) and
added; each level is smoothed by a 3x3 convolution, pooled, and the pooled levels are
concatenated and projected to the embedding.
"""

import torch
import torch.nn.functional as F
from torch import nn

from . import resnet
from .blocks import conv_bn
from .resnet import ResNetBody, build_siamese_resnet

__all__ = ["FPNTower", "DEFAULTS", "fpn"]


class _PooledLevels(nn.Module):
    def forward(self, levels):
        return torch.cat([torch.mean(p, dim=(2, 3)) for p in levels], dim=1)


class FPNTower(nn.Module):
    def __init__(
        self, layers, width_mult: float, feat_dim: int, block: str, attention: str
    ) -> None:
        super().__init__()
        self.body = ResNetBody(layers, width_mult, block, attention)
        width = self.body.widths[0]
        self.lateral = nn.ModuleList(conv_bn(c, width, 1, relu=False) for c in self.body.widths)
        self.smooth = nn.ModuleList(conv_bn(width, width, 3) for _ in self.body.widths)
        self.pool = _PooledLevels()
        self.embedding = nn.Sequential(
            nn.Linear(width * len(layers), feat_dim), nn.BatchNorm1d(feat_dim)
        )

    def forward(self, x):
        features = self.body(x)
        top = self.lateral[-1](features[-1])
        levels = [self.smooth[-1](top)]
        for i in range(len(features) - 2, -1, -1):
            size = self.body.sizes[i]
            top = self.lateral[i](features[i]) + F.interpolate(
                top, size=(size, size), mode="nearest"
            )
            levels.append(self.smooth[i](top))
        return self.embedding(self.pool(levels))


# The pyramid sits on the ResNet body, so it takes the same parameters and defaults.
DEFAULTS = {**resnet.DEFAULTS}


def fpn(*, layers, width_mult, feat_dim, block, attention, heads, antisymmetric, head_params):
    return build_siamese_resnet(
        FPNTower,
        layers=layers,
        width_mult=width_mult,
        feat_dim=feat_dim,
        block=block,
        attention=attention,
        heads=heads,
        antisymmetric=antisymmetric,
        head_params=head_params,
    )
