"""ImprovedV2 pair model, the original's stage-1 model: ResNet tower with CBAM, all six heads.

Antisymmetry is off by default: under it the four symmetric heads would drop out, and this model
exists to mix all six (it sees order through concat and residual; train it with swap
augmentation).
"""

from .resnet import ResNetTower, build_siamese_resnet

__all__ = ["DEFAULTS", "improved_v2"]

DEFAULTS = {
    "layers": [2, 2, 2],
    "width_mult": 1.0,
    "feat_dim": 256,
    "block": "basic",
    "heads": ["diff", "concat", "product", "cosine", "l2", "residual"],
    "antisymmetric": False,
    "head_params": None,
}


def improved_v2(*, layers, width_mult, feat_dim, block, heads, antisymmetric, head_params):
    return build_siamese_resnet(
        ResNetTower,
        layers=layers,
        width_mult=width_mult,
        feat_dim=feat_dim,
        block=block,
        attention="cbam",
        heads=heads,
        antisymmetric=antisymmetric,
        head_params=head_params,
    )
