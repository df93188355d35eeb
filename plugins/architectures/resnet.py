"""ResNet pair model: a residual tower for 28x28 digits with no early downsampling.

The stem is a stride-1 3x3 convolution; stage i has 64 * 2**i * width_mult channels and halves
the resolution from the second stage on (28 -> 14 -> 7 for three stages).
"""

from torch import nn

from pairzoo.siamese import SiameseNet

from ._checks import check_attention, check_block, check_feat_dim, check_layers, check_width, scaled
from .blocks import Embedding, conv_bn, make_stage

__all__ = ["ResNetBody", "ResNetTower", "build_siamese_resnet", "DEFAULTS", "resnet"]

BASE_WIDTH = 64


class ResNetBody(nn.Module):
    def __init__(self, layers, width_mult: float, block: str, attention: str) -> None:
        super().__init__()
        self.widths = [scaled(BASE_WIDTH * 2**i, width_mult) for i in range(len(layers))]
        self.sizes = [28]
        for _ in layers[1:]:
            self.sizes.append((self.sizes[-1] + 1) // 2)
        self.stem = conv_bn(1, self.widths[0])
        cins = [self.widths[0], *self.widths[:-1]]
        self.stages = nn.ModuleList(
            make_stage(block, cin, cout, depth, 1 if i == 0 else 2, attention)
            for i, (cin, cout, depth) in enumerate(zip(cins, self.widths, layers, strict=True))
        )

    def forward(self, x):
        outputs = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs


class ResNetTower(nn.Module):
    def __init__(
        self, layers, width_mult: float, feat_dim: int, block: str, attention: str
    ) -> None:
        super().__init__()
        self.body = ResNetBody(layers, width_mult, block, attention)
        self.embedding = Embedding(self.body.widths[-1], feat_dim)

    def forward(self, x):
        return self.embedding(self.body(x)[-1])


def build_siamese_resnet(
    tower_cls, *, layers, width_mult, feat_dim, block, attention, heads, antisymmetric, head_params
):
    tower = tower_cls(
        check_layers(layers),
        check_width(width_mult),
        check_feat_dim(feat_dim),
        check_block(block),
        check_attention(attention),
    )
    return SiameseNet(tower, feat_dim, heads, antisymmetric, head_params)


DEFAULTS = {
    "layers": [2, 2, 2],
    "width_mult": 1.0,
    "feat_dim": 256,
    "block": "basic",
    "attention": "se",
    "heads": ["diff", "concat", "product"],
    "antisymmetric": True,
    "head_params": None,  # {head name: params}; the trainer fills a data-driven head's in
}


def resnet(*, layers, width_mult, feat_dim, block, attention, heads, antisymmetric, head_params):
    return build_siamese_resnet(
        ResNetTower,
        layers=layers,
        width_mult=width_mult,
        feat_dim=feat_dim,
        block=block,
        attention=attention,
        heads=heads,
        antisymmetric=antisymmetric,
        head_params=head_params,
    )
