"""Loose plugin files with the mistakes plugin authors make, one per architecture, head or loss."""

from __future__ import annotations

import textwrap
from pathlib import Path

_HEADER = """
import torch
from torch import nn
from pairzoo.hookspecs import hookimpl


class Flat(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Linear(2 * 784, 1)

    def logit(self, xa, xb):
        return self.f(torch.cat([xa, xb], 1).flatten(1))
"""

SOURCES = {
    # forward returns (N, 1) instead of (N,)
    "shape_mlp": """
class M(Flat):
    def forward(self, xa, xb):
        return self.logit(xa, xb)
""",
    # .squeeze() is wrong only at batch 1
    "squeezer": """
class M(Flat):
    def forward(self, xa, xb):
        return self.logit(xa, xb).squeeze()
""",
    # right in PyTorch at every batch size, but the traced ONNX squeezes batch 1 away
    "squeeze_trap": """
class M(Flat):
    def forward(self, xa, xb):
        out = self.logit(xa, xb)
        return out.squeeze() if out.shape[0] > 1 else out.reshape(1)
""",
    # a bug in the factory
    "boom": """
def M():
    return undefined_thing
""",
    # a bug in forward that shows only while training
    "trainboom": """
class M(Flat):
    def forward(self, xa, xb):
        if self.training:
            return not_defined_in_training
        return self.logit(xa, xb).squeeze(1)
""",
    # declares antisymmetry it does not have
    "liar": """
class M(Flat):
    antisymmetric = True

    def forward(self, xa, xb):
        return self.logit(xa, xb).squeeze(1)
""",
    # a well-behaved one
    "good": """
class M(Flat):
    def forward(self, xa, xb):
        return self.logit(xa, xb).squeeze(1)
""",
}

_REGISTER = """

@hookimpl
def register_architectures(register):
    register("{name}", M)
"""

NO_HOOKIMPL = """
from torch import nn


def register_architectures(register):
    register("nomark", nn.Identity)
"""

BAD_HEAD = (
    _HEADER
    + """

class Head(nn.Module):
    def __init__(self, feat_dim):
        super().__init__()
        self.f = nn.Linear(2 * feat_dim, 1)

    def forward(self, ea, eb):
        return self.f(torch.cat([ea, eb], 1))


@hookimpl
def register_fusion_heads(register):
    register("wide", Head)
"""
)

BAD_LOSS = (
    _HEADER
    + """

class Loss(nn.Module):
    def forward(self, logits, targets, teacher_logits=None):
        return nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")


@hookimpl
def register_losses(register):
    register("unreduced", Loss)
"""
)


def write_plugin(directory: Path, name: str) -> Path:
    """`directory/name.py` holding architecture `name` of SOURCES; returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    source = _HEADER + SOURCES[name] + _REGISTER.format(name=name)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def write_source(directory: Path, stem: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path
