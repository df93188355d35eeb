"""Building blocks shared by the builtin towers: residual blocks, SE and CBAM attention."""

import torch
from torch import nn

__all__ = [
    "BLOCKS",
    "ATTENTIONS",
    "conv_bn",
    "SqueezeExcite",
    "CBAM",
    "BasicBlock",
    "Bottleneck",
    "make_attention",
    "make_stage",
    "Embedding",
]

BLOCKS = ("basic", "bottleneck")
ATTENTIONS = ("se", "cbam", "none")


def conv_bn(
    cin: int, cout: int, kernel: int = 3, stride: int = 1, relu: bool = True
) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.fc(x)


class CBAM(nn.Module):
    """Channel attention (shared MLP on average- and max-pooled maps), then spatial attention."""

    def __init__(self, channels: int, reduction: int = 16, kernel: int = 7) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1)
        )
        self.spatial = nn.Sequential(
            nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False), nn.Sigmoid()
        )

    def forward(self, x):
        # Max pooling through ops whose backward routes by index: amax's backward compares the
        # whole map to its maxima and was a fifth of the CPU training step.
        avg = torch.mean(x, dim=(2, 3), keepdim=True)
        peak = nn.functional.adaptive_max_pool2d(x, 1)
        x = x * torch.sigmoid(self.mlp(avg) + self.mlp(peak))
        maps = torch.cat(
            [torch.mean(x, dim=1, keepdim=True), torch.max(x, dim=1, keepdim=True).values], dim=1
        )
        return x * self.spatial(maps)


def make_attention(kind: str, channels: int) -> nn.Module:
    if kind == "se":
        return SqueezeExcite(channels)
    if kind == "cbam":
        return CBAM(channels)
    return nn.Identity()


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    return conv_bn(cin, cout, 1, stride, relu=False)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1, attention: str = "none") -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, 3, stride), conv_bn(cout, cout, 3, relu=False))
        self.attention = make_attention(attention, cout)
        self.shortcut = _shortcut(cin, cout, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.attention(self.body(x)) + self.shortcut(x))


class Bottleneck(nn.Module):
    # The block's output width is the stage width; the 3x3 runs at a quarter of it.
    def __init__(self, cin: int, cout: int, stride: int = 1, attention: str = "none") -> None:
        super().__init__()
        mid = max(cout // 4, 4)
        self.body = nn.Sequential(
            conv_bn(cin, mid, 1), conv_bn(mid, mid, 3, stride), conv_bn(mid, cout, 1, relu=False)
        )
        self.attention = make_attention(attention, cout)
        self.shortcut = _shortcut(cin, cout, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.attention(self.body(x)) + self.shortcut(x))


def make_stage(
    block: str, cin: int, cout: int, depth: int, stride: int, attention: str
) -> nn.Sequential:
    cls = BasicBlock if block == "basic" else Bottleneck
    blocks = [cls(cin, cout, stride, attention)]
    blocks += [cls(cout, cout, 1, attention) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class Embedding(nn.Module):
    """Global average pool, then a linear projection to feat_dim with batch norm."""

    def __init__(self, channels: int, feat_dim: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(channels, feat_dim), nn.BatchNorm1d(feat_dim))

    def forward(self, x):
        return self.proj(torch.mean(x, dim=(2, 3)))
